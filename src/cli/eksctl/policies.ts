/**
 * The extra IAM permissions eksctl grants by name: node groups'
 * `iam.withAddonPolicies` and service accounts' / add-ons'
 * `wellKnownPolicies`, each an AWS managed policy or an inline policy with
 * the actions the add-on needs; plus inline `attachPolicy` documents.
 */
import type { CliContext } from './context.ts';

interface Grant {
  /** AWS managed policies to attach. */
  managed?: string[];
  /** Inline policy statements (put as one role policy named after the grant). */
  statements?: Array<Record<string, unknown>>;
}

const aws = (n: string) => `arn:aws:iam::aws:policy/${n}`;
const allow = (Action: string[], Resource: string | string[] = '*') => ({ Effect: 'Allow', Action, Resource });

const AUTOSCALER: Grant = {
  statements: [
    allow(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLaunchConfigurations', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags', 'ec2:DescribeImages', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplateVersions', 'ec2:GetInstanceTypesFromInstanceRequirements', 'eks:DescribeNodegroup']),
    allow(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']),
  ],
};
const EXTERNAL_DNS: Grant = { statements: [allow(['route53:ChangeResourceRecordSets'], 'arn:aws:route53:::hostedzone/*'), allow(['route53:ListHostedZones', 'route53:ListResourceRecordSets', 'route53:ListTagsForResource'])] };
const CERT_MANAGER: Grant = { statements: [allow(['route53:GetChange'], 'arn:aws:route53:::change/*'), allow(['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets'], 'arn:aws:route53:::hostedzone/*'), allow(['route53:ListHostedZonesByName'])] };
const LOAD_BALANCER: Grant = {
  statements: [
    allow(['elasticloadbalancing:*', 'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInternetGateways', 'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeTags', 'ec2:CreateSecurityGroup', 'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup', 'acm:ListCertificates', 'acm:DescribeCertificate', 'iam:CreateServiceLinkedRole', 'wafv2:*', 'shield:*', 'cognito-idp:DescribeUserPoolClient']),
  ],
};

/** withAddonPolicies of node groups. */
export const ADDON_POLICIES: Record<string, Grant> = {
  imageBuilder: { managed: [aws('AmazonEC2ContainerRegistryPowerUser')] },
  autoScaler: AUTOSCALER,
  externalDNS: EXTERNAL_DNS,
  certManager: CERT_MANAGER,
  appMesh: { statements: [allow(['servicediscovery:*', 'appmesh:*', 'route53:*'])] },
  appMeshPreview: { statements: [allow(['servicediscovery:*', 'appmesh-preview:*', 'route53:*'])] },
  ebs: { managed: [aws('service-role/AmazonEBSCSIDriverPolicy')] },
  fsx: { statements: [allow(['fsx:*', 'iam:CreateServiceLinkedRole', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 's3:ListBucket'])] },
  efs: { managed: [aws('service-role/AmazonEFSCSIDriverPolicy')] },
  awsLoadBalancerController: LOAD_BALANCER,
  albIngress: LOAD_BALANCER,
  xRay: { statements: [allow(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries'])] },
  cloudWatch: { managed: [aws('CloudWatchAgentServerPolicy')] },
};

/** wellKnownPolicies of IAM service accounts and add-ons. */
export const WELL_KNOWN_POLICIES: Record<string, Grant> = {
  imageBuilder: ADDON_POLICIES.imageBuilder!,
  autoScaler: AUTOSCALER,
  awsLoadBalancerController: LOAD_BALANCER,
  externalDNS: EXTERNAL_DNS,
  certManager: CERT_MANAGER,
  ebsCSIController: { managed: [aws('service-role/AmazonEBSCSIDriverPolicy')] },
  efsCSIController: { managed: [aws('service-role/AmazonEFSCSIDriverPolicy')] },
};

/** grantsOf picks the grants a flags object turns on ({autoScaler: true, ...}). Unknown names throw. */
export function grantsOf(flags: Record<string, unknown> | undefined, table: Record<string, Grant>, what: string): Array<[string, Grant]> {
  const out: Array<[string, Grant]> = [];
  for (const [k, on] of Object.entries(flags ?? {})) {
    if (!on) continue;
    const g = table[k];
    if (!g) throw new Error(`${what}: "${k}" is not a known policy (${Object.keys(table).join(', ')})`);
    out.push([k, g]);
  }
  return out;
}

/** managedPoliciesOf lists the managed policy ARNs of some grants. */
export function managedPoliciesOf(grants: Array<[string, Grant]>): string[] {
  return grants.flatMap(([, g]) => g.managed ?? []);
}

/** putInlinePolicies puts each grant's statements, and an attachPolicy document, as role policies. */
export async function putInlinePolicies(ctx: CliContext, role: string, grants: Array<[string, Grant]>, attachPolicy?: unknown): Promise<void> {
  const puts: Array<[string, unknown]> = grants.filter(([, g]) => g.statements?.length).map(([k, g]) => [`PolicyWellKnown${k[0]!.toUpperCase()}${k.slice(1)}`, { Version: '2012-10-17', Statement: g.statements }]);
  if (attachPolicy) puts.push(['Policy1', attachPolicy]);
  await Promise.all(puts.map(([name, doc]) => ctx.aws.call('iam', 'PutRolePolicy', { RoleName: role, PolicyName: name, PolicyDocument: typeof doc === 'string' ? doc : JSON.stringify(doc) })));
}
