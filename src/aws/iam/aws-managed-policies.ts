/**
 * A small catalogue of AWS managed policies (arn:aws:iam::aws:policy/...) that
 * EKS stacks attach. Names, paths and ARNs are AWS's; documents are short but
 * plausible summaries of AWS's (localeks does not evaluate policies).
 */
import type { PolicyDoc } from './model.ts';

interface Entry {
  name: string;
  path: string;
  description: string;
  actions: string[];
  version?: string;
}

const CATALOGUE: Entry[] = [
  { name: 'AdministratorAccess', path: '/', description: 'Provides full access to AWS services and resources.', actions: ['*'] },
  { name: 'ReadOnlyAccess', path: '/', description: 'Provides read-only access to AWS services and resources.', actions: ['ec2:Describe*', 'eks:Describe*', 'eks:List*', 'iam:Get*', 'iam:List*', 's3:Get*', 's3:List*', 'logs:Describe*', 'logs:Get*', 'kms:Describe*', 'kms:List*'] },
  { name: 'PowerUserAccess', path: '/', description: 'Provides full access to AWS services and resources, but does not allow management of Users and groups.', actions: ['*'] },
  { name: 'IAMFullAccess', path: '/', description: 'Provides full access to IAM via the AWS Management Console.', actions: ['iam:*', 'organizations:DescribeAccount'] },
  { name: 'AmazonEKSClusterPolicy', path: '/', description: 'This policy provides Kubernetes the permissions it requires to manage resources on your behalf.', actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:UpdateAutoScalingGroup', 'ec2:AttachVolume', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:CreateRoute', 'ec2:CreateSecurityGroup', 'ec2:CreateTags', 'ec2:CreateVolume', 'ec2:DeleteRoute', 'ec2:DeleteSecurityGroup', 'ec2:DeleteVolume', 'ec2:Describe*', 'ec2:DetachVolume', 'ec2:ModifyInstanceAttribute', 'ec2:ModifyVolume', 'ec2:RevokeSecurityGroupIngress', 'elasticloadbalancing:*', 'kms:DescribeKey'] },
  { name: 'AmazonEKSServicePolicy', path: '/', description: 'This policy allows Amazon Elastic Container Service for Kubernetes to create and manage the necessary resources to operate EKS Clusters.', actions: ['ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:ModifyNetworkInterfaceAttribute', 'iam:ListAttachedRolePolicies', 'eks:UpdateClusterVersion'] },
  { name: 'AmazonEKSVPCResourceController', path: '/', description: 'Policy used by VPC Resource Controller to manage ENI and IPs for worker nodes.', actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:AssignPrivateIpAddresses', 'ec2:AttachNetworkInterface', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeTags', 'ec2:DescribeVpcs', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:UnassignPrivateIpAddresses'] },
  { name: 'AmazonEKSWorkerNodePolicy', path: '/', description: 'This policy allows Amazon EKS worker nodes to connect to Amazon EKS Clusters.', actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:DescribeVpcs', 'eks:DescribeCluster', 'eks-auth:AssumeRoleForPodIdentity'] },
  { name: 'AmazonEKS_CNI_Policy', path: '/', description: 'This policy provides the Amazon VPC CNI Plugin (amazon-vpc-cni-k8s) the permissions it requires to modify the IP address configuration on your EKS worker nodes.', actions: ['ec2:AssignPrivateIpAddresses', 'ec2:AttachNetworkInterface', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSubnets', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:UnassignPrivateIpAddresses', 'ec2:CreateTags'] },
  { name: 'AmazonEKS_CNI_IPv6_Policy', path: '/', description: 'Amazon VPC CNI IPv6 permissions.', actions: ['ec2:AssignIpv6Addresses', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes', 'ec2:CreateTags'] },
  { name: 'AmazonEKSFargatePodExecutionRolePolicy', path: '/', description: 'Provides access to other AWS service resources that are required to run Amazon EKS pods on AWS Fargate.', actions: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'] },
  { name: 'AmazonEKSBlockStoragePolicy', path: '/', description: 'Permissions for EKS Auto Mode block storage.', actions: ['ec2:CreateVolume', 'ec2:DeleteVolume', 'ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:Describe*'] },
  { name: 'AmazonEKSComputePolicy', path: '/', description: 'Permissions for EKS Auto Mode compute.', actions: ['ec2:CreateFleet', 'ec2:RunInstances', 'ec2:CreateLaunchTemplate', 'ec2:Describe*'] },
  { name: 'AmazonEKSLoadBalancingPolicy', path: '/', description: 'Permissions for EKS Auto Mode load balancing.', actions: ['elasticloadbalancing:*', 'ec2:Describe*'] },
  { name: 'AmazonEKSNetworkingPolicy', path: '/', description: 'Permissions for EKS Auto Mode networking.', actions: ['ec2:CreateNetworkInterface', 'ec2:Describe*'] },
  { name: 'AmazonEKSWorkerNodeMinimalPolicy', path: '/', description: 'Minimal permissions for EKS worker nodes.', actions: ['eks-auth:AssumeRoleForPodIdentity'] },
  { name: 'AmazonEC2ContainerRegistryReadOnly', path: '/', description: 'Provides read-only access to Amazon EC2 Container Registry repositories.', actions: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:GetRepositoryPolicy', 'ecr:DescribeRepositories', 'ecr:ListImages', 'ecr:DescribeImages', 'ecr:BatchGetImage', 'ecr:GetLifecyclePolicy', 'ecr:GetLifecyclePolicyPreview', 'ecr:ListTagsForResource', 'ecr:DescribeImageScanFindings'] },
  { name: 'AmazonEC2ContainerRegistryPullOnly', path: '/', description: 'Provides permissions to pull images from Amazon ECR.', actions: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] },
  { name: 'AmazonEC2ContainerRegistryPowerUser', path: '/', description: 'Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.', actions: ['ecr:*'] },
  { name: 'AmazonEC2FullAccess', path: '/', description: 'Provides full access to Amazon EC2 via the AWS Management Console.', actions: ['ec2:*', 'elasticloadbalancing:*', 'cloudwatch:*', 'autoscaling:*'] },
  { name: 'AmazonSSMManagedInstanceCore', path: '/', description: 'The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality.', actions: ['ssm:DescribeAssociation', 'ssm:GetDeployablePatchSnapshotForInstance', 'ssm:GetDocument', 'ssm:DescribeDocument', 'ssm:GetManifest', 'ssm:GetParameter', 'ssm:GetParameters', 'ssm:ListAssociations', 'ssm:ListInstanceAssociations', 'ssm:PutInventory', 'ssm:PutComplianceItems', 'ssm:PutConfigurePackageResult', 'ssm:UpdateAssociationStatus', 'ssm:UpdateInstanceAssociationStatus', 'ssm:UpdateInstanceInformation', 'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel', 'ec2messages:*'] },
  { name: 'AmazonRoute53FullAccess', path: '/', description: 'Provides full access to all Amazon Route 53 via the AWS Management Console.', actions: ['route53:*', 'route53domains:*', 'elasticloadbalancing:DescribeLoadBalancers', 'ec2:DescribeVpcs', 'ec2:DescribeRegions'] },
  { name: 'AmazonRoute53ReadOnlyAccess', path: '/', description: 'Provides read only access to all Amazon Route 53 via the AWS Management Console.', actions: ['route53:Get*', 'route53:List*', 'route53:TestDNSAnswer'] },
  { name: 'AmazonS3FullAccess', path: '/', description: 'Provides full access to all buckets via the AWS Management Console.', actions: ['s3:*', 's3-object-lambda:*'] },
  { name: 'AmazonS3ReadOnlyAccess', path: '/', description: 'Provides read only access to all buckets via the AWS Management Console.', actions: ['s3:Get*', 's3:List*', 's3:Describe*'] },
  { name: 'CloudWatchAgentServerPolicy', path: '/', description: 'Permissions required to use AmazonCloudWatchAgent on servers.', actions: ['cloudwatch:PutMetricData', 'ec2:DescribeVolumes', 'ec2:DescribeTags', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:DescribeLogGroups', 'logs:CreateLogStream', 'logs:CreateLogGroup', 'xray:PutTraceSegments', 'ssm:GetParameter'] },
  { name: 'CloudWatchLogsFullAccess', path: '/', description: 'Provides full access to CloudWatch Logs.', actions: ['logs:*'] },
  { name: 'ElasticLoadBalancingFullAccess', path: '/', description: 'Provides full access to Amazon ElasticLoadBalancing.', actions: ['elasticloadbalancing:*', 'ec2:Describe*'] },
  { name: 'AmazonEBSCSIDriverPolicy', path: '/service-role/', description: 'IAM Policy that allows the CSI driver service account to make calls to related services such as EC2 on your behalf.', actions: ['ec2:CreateSnapshot', 'ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:ModifyVolume', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeTags', 'ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:CreateVolume', 'ec2:DeleteVolume', 'ec2:DeleteSnapshot'] },
  { name: 'AmazonEFSCSIDriverPolicy', path: '/service-role/', description: 'Provides permissions to manage EFS access points for the EFS CSI driver.', actions: ['elasticfilesystem:DescribeAccessPoints', 'elasticfilesystem:DescribeFileSystems', 'elasticfilesystem:DescribeMountTargets', 'elasticfilesystem:CreateAccessPoint', 'elasticfilesystem:TagResource', 'elasticfilesystem:DeleteAccessPoint', 'ec2:DescribeAvailabilityZones'] },
  { name: 'AmazonEC2RoleforSSM', path: '/service-role/', description: 'Default policy for Amazon EC2 Role for Simple Systems Manager service role.', actions: ['ssm:*', 'ec2messages:*', 'cloudwatch:PutMetricData', 'ds:CreateComputer', 'ds:DescribeDirectories', 'logs:*', 's3:GetObject', 's3:PutObject'] },
  { name: 'AmazonEKSServiceRolePolicy', path: '/aws-service-role/', description: 'Permissions required by Amazon EKS to manage clusters on your behalf.', actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:Describe*', 'iam:GetRole', 'iam:ListAttachedRolePolicies', 'route53:AssociateVPCWithHostedZone', 'logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DescribeLogGroups', 'logs:CreateLogStream', 'logs:PutLogEvents'] },
  { name: 'AWSServiceRoleForAmazonEKSNodegroup', path: '/aws-service-role/', description: 'This policy allows Amazon EKS to create and manage Nodegroups.', actions: ['ec2:RunInstances', 'ec2:CreateTags', 'ec2:Describe*', 'autoscaling:*', 'iam:PassRole', 'iam:GetRole'] },
  { name: 'AmazonEKSForFargateServiceRolePolicy', path: '/aws-service-role/', description: 'Permissions required by Amazon EKS to run Fargate tasks.', actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:Describe*', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterfacePermission'] },
  { name: 'AutoScalingServiceRolePolicy', path: '/aws-service-role/', description: 'Enables access to AWS Services and Resources used or managed by Auto Scaling.', actions: ['ec2:*', 'elasticloadbalancing:*', 'cloudwatch:*', 'sns:Publish'] },
  { name: 'AWSElasticLoadBalancingServiceRolePolicy', path: '/aws-service-role/', description: 'Service Linked Role Policy for AWS Elastic Load Balancing Control Plane.', actions: ['ec2:*', 'logs:CreateLogDelivery'] },
  { name: 'AWSEC2SpotServiceRolePolicy', path: '/aws-service-role/', description: 'Allows EC2 Spot to launch and manage spot instances.', actions: ['ec2:DescribeInstances', 'ec2:StartInstances', 'ec2:StopInstances', 'iam:PassRole'] },
];

const FIXED_DATE = '2019-05-29T16:00:00.000Z';

function policyId(name: string): string {
  // Stable per name: ANPA + 17 uppercase alphanumerics derived from the name.
  let h = 2166136261;
  let out = '';
  for (let i = 0; out.length < 17; i++) {
    h ^= name.charCodeAt(i % name.length) + i;
    h = Math.imul(h, 16777619) >>> 0;
    out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[h % 32];
  }
  return 'ANPA' + out;
}

function toDoc(e: Entry): PolicyDoc {
  const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: e.actions.length === 1 ? e.actions[0] : e.actions, Resource: '*' }] });
  const version = e.version ?? 'v1';
  return {
    PolicyName: e.name,
    PolicyId: policyId(e.name),
    Arn: `arn:aws:iam::aws:policy${e.path}${e.name}`,
    Path: e.path,
    DefaultVersionId: version,
    IsAttachable: true,
    Description: e.description,
    CreateDate: FIXED_DATE,
    UpdateDate: FIXED_DATE,
    _versions: [{ VersionId: version, Document: encodeURIComponent(document), IsDefaultVersion: true, CreateDate: FIXED_DATE }],
    _nextVersion: 2,
  };
}

const BY_ARN = new Map<string, PolicyDoc>(CATALOGUE.map((e) => [`arn:aws:iam::aws:policy${e.path}${e.name}`, toDoc(e)]));

/** awsManagedPolicy returns the catalogue entry for an arn:aws:iam::aws:policy/... ARN, or undefined. */
export function awsManagedPolicy(arn: string): PolicyDoc | undefined {
  return BY_ARN.get(arn);
}

/** awsManagedPolicies lists the catalogue, sorted by name. */
export function awsManagedPolicies(): PolicyDoc[] {
  return [...BY_ARN.values()].sort((a, b) => a.PolicyName.localeCompare(b.PolicyName));
}
