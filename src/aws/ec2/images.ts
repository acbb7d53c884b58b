/**
 * Images. localeks boots no operating system, so it keeps a small synthetic
 * catalogue of the public AMIs EKS stacks look up by name (the EKS
 * optimized AMIs for Amazon Linux 2 and 2023, x86_64 and arm64, per
 * Kubernetes version; Amazon Linux 2 and 2023) with stable ids, and
 * describes any other well-formed `ami-` id as a private image so that
 * `data "aws_ami"` and DescribeImages by id answer.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../core/types.ts';
import { ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate } from './filters.ts';
import type { Doc } from './store.ts';

const EKS_OWNER = '602401143452';
const AMAZON_OWNER = '137112412989';
const KUBE_VERSIONS = ['1.28', '1.29', '1.30', '1.31', '1.32', '1.33', '1.34', '1.35'];
/** EKS publishes no Amazon Linux 2 optimized AMIs after Kubernetes 1.32 (AL2023 and Bottlerocket only). */
const LAST_AL2_VERSION = '1.32';
const RELEASE = '20251101';

function amiId(name: string, region: string): string {
  return `ami-0${createHash('sha256').update(`${region}/${name}`).digest('hex').slice(0, 16)}`;
}

function image(region: string, name: string, arch: string, owner: string, alias: string, description: string): Doc {
  const id = amiId(name, region);
  return {
    ImageId: id,
    Name: name,
    Description: description,
    Architecture: arch,
    OwnerId: owner,
    ImageOwnerAlias: alias,
    ImageLocation: `${alias}/${name}`,
    ImageType: 'machine',
    Public: true,
    State: 'available',
    CreationDate: '2025-11-01T00:00:00.000Z',
    DeprecationTime: '2027-11-01T00:00:00.000Z',
    EnaSupport: true,
    Hypervisor: 'xen',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    RootDeviceName: '/dev/xvda',
    RootDeviceType: 'ebs',
    VirtualizationType: 'hvm',
    SriovNetSupport: 'simple',
    BootMode: arch === 'arm64' ? 'uefi' : 'uefi-preferred',
    ImdsSupport: 'v2.0',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: true, SnapshotId: `snap-0${id.slice(5)}`, VolumeSize: 20, VolumeType: 'gp3', Encrypted: false, Iops: 3000, Throughput: 125 } }],
    Tags: [],
  };
}

const catalogues = new Map<string, Doc[]>();

/** publicImages lists the synthetic public AMIs of a region. */
export function publicImages(region: string): Doc[] {
  let list = catalogues.get(region);
  if (list) return list;
  list = [];
  for (const v of KUBE_VERSIONS) {
    if (Number(v.split('.')[1]) <= Number(LAST_AL2_VERSION.split('.')[1])) {
      list.push(image(region, `amazon-eks-node-${v}-v${RELEASE}`, 'x86_64', EKS_OWNER, 'amazon', `EKS Kubernetes Worker AMI with AmazonLinux2 image, (k8s: ${v})`));
      list.push(image(region, `amazon-eks-arm64-node-${v}-v${RELEASE}`, 'arm64', EKS_OWNER, 'amazon', `EKS Kubernetes Worker AMI with AmazonLinux2 image, (k8s: ${v}, arm64)`));
    }
    for (const arch of ['x86_64', 'arm64']) {
      list.push(image(region, `amazon-eks-node-al2023-${arch}-standard-${v}-v${RELEASE}`, arch, EKS_OWNER, 'amazon', `EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: ${v})`));
    }
  }
  for (const arch of ['x86_64', 'arm64']) {
    list.push(image(region, `al2023-ami-2023.9.${RELEASE}.0-kernel-6.1-${arch}`, arch, AMAZON_OWNER, 'amazon', 'Amazon Linux 2023 AMI'));
    list.push(image(region, `amzn2-ami-hvm-2.0.${RELEASE}.0-${arch}-gp2`, arch, AMAZON_OWNER, 'amazon', 'Amazon Linux 2 AMI'));
  }
  catalogues.set(region, list);
  return list;
}

export const imageOperations = {
  DescribeImages(input: { ImageIds?: string[]; Owners?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string; IncludeDeprecated?: boolean }, ctx: RequestContext) {
    const catalogue = publicImages(ctx.region);
    let rows: Doc[];
    if (input.ImageIds?.length) {
      rows = input.ImageIds.map((id) => {
        if (!/^ami-[0-9a-f]{8,17}$/.test(id)) throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
        return catalogue.find((i) => i.ImageId === id) ?? { ...image(ctx.region, `localeks-${id}`, 'x86_64', ctx.accountId, '', 'image'), ImageId: id, Public: false, ImageOwnerAlias: undefined };
      });
    } else {
      rows = catalogue;
    }
    if (input.Owners?.length) {
      const owners = input.Owners;
      rows = rows.filter((i) => owners.includes(i.OwnerId) || (i.ImageOwnerAlias && owners.includes(i.ImageOwnerAlias)) || (owners.includes('self') && i.OwnerId === ctx.accountId));
    }
    const match = compileFilters(input.Filters, {
      architecture: (d) => d.Architecture,
      description: (d) => d.Description,
      'image-id': (d) => d.ImageId,
      'image-type': (d) => d.ImageType,
      'is-public': (d) => d.Public,
      name: (d) => d.Name,
      'owner-alias': (d) => d.ImageOwnerAlias,
      'owner-id': (d) => d.OwnerId,
      'platform-details': (d) => d.PlatformDetails,
      'root-device-name': (d) => d.RootDeviceName,
      'root-device-type': (d) => d.RootDeviceType,
      state: (d) => d.State,
      'virtualization-type': (d) => d.VirtualizationType,
      hypervisor: (d) => d.Hypervisor,
      'ena-support': (d) => d.EnaSupport,
    });
    const { page, NextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken);
    return { Images: page, NextToken };
  },
};
