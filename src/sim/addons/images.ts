/**
 * Where EKS add-on images come from: the EKS ECR registry of each region
 * (the "View Amazon container image registries for Amazon EKS add-ons" table
 * of the EKS user guide; 602401143452 in most regions) and the image tags of
 * each add-on version.
 */

/** Regions whose EKS add-on registry is not account 602401143452. */
const REGISTRY_ACCOUNTS: Record<string, string> = {
  'af-south-1': '877085696533',
  'ap-east-1': '800184023465',
  'ap-east-2': '533267051163',
  'ap-southeast-3': '296578399912',
  'ap-south-2': '900889452093',
  'ap-southeast-4': '491585149902',
  'ap-southeast-5': '151610086707',
  'ap-southeast-6': '333609536671',
  'ap-southeast-7': '121268973566',
  'ca-west-1': '761377655185',
  'cn-north-1': '918309763551',
  'cn-northwest-1': '961992271922',
  'eu-central-2': '900612956339',
  'eu-south-1': '590381155156',
  'eu-south-2': '455263428327',
  'il-central-1': '066635153087',
  'me-central-1': '759879836304',
  'me-south-1': '558608220178',
  'mx-central-1': '730335286997',
  'us-gov-east-1': '151742754352',
  'us-gov-west-1': '013241004608',
};

/** registryFor: the EKS add-on image registry host of a region. */
export function registryFor(region: string): string {
  const account = REGISTRY_ACCOUNTS[region] ?? '602401143452';
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${suffix}`;
}

/** The network policy agent version shipped with each VPC CNI minor release (aws-eks-nodeagent container). */
const NODE_AGENT: Record<string, string> = {
  'v1.20': 'v1.2.7-eksbuild.1',
  'v1.19': 'v1.2.1-eksbuild.1',
  'v1.18': 'v1.1.2-eksbuild.1',
};

/** The images of an add-on version, by container name. */
export function addonImages(addonName: string, version: string, region: string): Record<string, string> {
  const r = registryFor(region);
  switch (addonName) {
    case 'vpc-cni': {
      const minor = version.split('.').slice(0, 2).join('.');
      return {
        'aws-vpc-cni-init': `${r}/amazon-k8s-cni-init:${version}`,
        'aws-node': `${r}/amazon-k8s-cni:${version}`,
        'aws-eks-nodeagent': `${r}/amazon/aws-network-policy-agent:${NODE_AGENT[minor] ?? 'v1.2.7-eksbuild.1'}`,
      };
    }
    case 'kube-proxy':
      // The add-on runs the minimal image: v1.31.10-eksbuild.12 -> v1.31.10-minimal-eksbuild.12.
      return { 'kube-proxy': `${r}/eks/kube-proxy:${version.replace('-eksbuild', '-minimal-eksbuild')}` };
    case 'coredns':
      return { coredns: `${r}/eks/coredns:${version}` };
    default:
      return {};
  }
}

/** imageTag: the tag of an image reference. */
export function imageTag(image: string): string {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}
