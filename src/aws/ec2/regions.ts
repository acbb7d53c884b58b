/**
 * Regions and availability zones: DescribeRegions,
 * DescribeAvailabilityZones, DescribeAccountAttributes.
 *
 * Zone names and zone ids follow AWS's published layout (us-east-1a..f,
 * use1-az1..6, ...). Real accounts see a per-account shuffle of the name to
 * id mapping; localeks uses one fixed mapping. Any region name is accepted:
 * an unknown one gets zones a, b and c.
 */
import type { RequestContext } from '../core/types.ts';
import { E } from './errors.ts';
import { compileFilters, type FilterInput } from './filters.ts';

interface RegionInfo {
  /** Zone letters and the zone id number of each. */
  zones: [string, number][];
  idPrefix: string;
  optIn: boolean;
}

function r(idPrefix: string, zones: string, ids?: number[], optIn = false): RegionInfo {
  return { idPrefix, optIn, zones: [...zones].map((z, i) => [z, ids?.[i] ?? i + 1]) };
}

const REGIONS: Record<string, RegionInfo> = {
  'us-east-1': r('use1', 'abcdef'),
  'us-east-2': r('use2', 'abc'),
  'us-west-1': r('usw1', 'bc', [1, 3]),
  'us-west-2': r('usw2', 'abcd'),
  'ca-central-1': r('cac1', 'abd', [1, 2, 4]),
  'ca-west-1': r('caw1', 'abc', undefined, true),
  'eu-west-1': r('euw1', 'abc'),
  'eu-west-2': r('euw2', 'abc'),
  'eu-west-3': r('euw3', 'abc'),
  'eu-central-1': r('euc1', 'abc'),
  'eu-central-2': r('euc2', 'abc', undefined, true),
  'eu-north-1': r('eun1', 'abc'),
  'eu-south-1': r('eus1', 'abc', undefined, true),
  'eu-south-2': r('eus2', 'abc', undefined, true),
  'ap-south-1': r('aps1', 'abc'),
  'ap-south-2': r('aps2', 'abc', undefined, true),
  'ap-northeast-1': r('apne1', 'acd', [4, 1, 2]),
  'ap-northeast-2': r('apne2', 'abcd'),
  'ap-northeast-3': r('apne3', 'abc'),
  'ap-southeast-1': r('apse1', 'abc'),
  'ap-southeast-2': r('apse2', 'abc'),
  'ap-southeast-3': r('apse3', 'abc', undefined, true),
  'ap-southeast-4': r('apse4', 'abc', undefined, true),
  'ap-east-1': r('ape1', 'abc', undefined, true),
  'sa-east-1': r('sae1', 'abc'),
  'af-south-1': r('afs1', 'abc', undefined, true),
  'me-south-1': r('mes1', 'abc', undefined, true),
  'me-central-1': r('mec1', 'abc', undefined, true),
  'il-central-1': r('ilc1', 'abc', undefined, true),
};

function regionInfo(region: string): RegionInfo {
  const known = REGIONS[region];
  if (known) return known;
  // e.g. xx-foo-1 -> xxf1
  const parts = region.split('-');
  const prefix = parts.length >= 3 ? `${parts[0]}${parts.slice(1, -1).map((p) => p[0]).join('')}${parts[parts.length - 1]}` : region.replace(/[^a-z0-9]/g, '');
  return r(prefix, 'abc');
}

/** Zone as the model's AvailabilityZone shape. */
export interface Zone {
  ZoneName: string;
  ZoneId: string;
  RegionName: string;
  State: string;
  OptInStatus: string;
  GroupName: string;
  GroupLongName: string;
  NetworkBorderGroup: string;
  ZoneType: string;
  Messages: never[];
}

const zoneCache = new Map<string, Zone[]>();

/** zonesOf lists the availability zones of a region. */
export function zonesOf(region: string): Zone[] {
  let zs = zoneCache.get(region);
  if (zs) return zs;
  const info = regionInfo(region);
  zs = info.zones.map(([letter, n]) => ({
    ZoneName: `${region}${letter}`,
    ZoneId: `${info.idPrefix}-az${n}`,
    RegionName: region,
    State: 'available',
    OptInStatus: 'opt-in-not-required',
    GroupName: `${region}-zg-1`,
    GroupLongName: regionLongName(region),
    NetworkBorderGroup: region,
    ZoneType: 'availability-zone',
    Messages: [],
  }));
  zoneCache.set(region, zs);
  return zs;
}

function regionLongName(region: string): string {
  const names: Record<string, string> = {
    'us-east-1': 'US East (N. Virginia) 1', 'us-east-2': 'US East (Ohio) 1', 'us-west-1': 'US West (N. California) 1',
    'us-west-2': 'US West (Oregon) 1', 'eu-west-1': 'Europe (Ireland) 1', 'eu-west-2': 'Europe (London) 1',
    'eu-central-1': 'Europe (Frankfurt) 1',
  };
  return names[region] ?? `${region} 1`;
}

/** zoneByName finds a zone of the region by name (us-east-1a) or id (use1-az1). */
export function findZone(region: string, nameOrId: string): Zone | undefined {
  return zonesOf(region).find((z) => z.ZoneName === nameOrId || z.ZoneId === nameOrId);
}

/** regionNames lists the regions localeks describes. */
export function regionNames(): string[] {
  return Object.keys(REGIONS);
}

export const regionOperations = {
  DescribeRegions(input: { RegionNames?: string[]; Filters?: FilterInput[]; AllRegions?: boolean }, ctx: RequestContext) {
    let names = regionNames();
    if (!names.includes(ctx.region)) names = [...names, ctx.region];
    const rows = names.map((n) => ({
      RegionName: n,
      Endpoint: `ec2.${n}.amazonaws.com`,
      OptInStatus: REGIONS[n]?.optIn ? 'opted-in' : 'opt-in-not-required',
    }));
    for (const n of input.RegionNames ?? []) {
      if (!rows.some((x) => x.RegionName === n)) throw E.param(`Invalid region: ${n}`);
    }
    const match = compileFilters(input.Filters, {
      endpoint: (d) => d.Endpoint,
      'region-name': (d) => d.RegionName,
      'opt-in-status': (d) => d.OptInStatus,
    });
    const want = input.RegionNames?.length ? new Set(input.RegionNames) : undefined;
    return { Regions: rows.filter((x) => (!want || want.has(x.RegionName)) && match(x)) };
  },

  DescribeAvailabilityZones(input: { ZoneNames?: string[]; ZoneIds?: string[]; Filters?: FilterInput[]; AllAvailabilityZones?: boolean }, ctx: RequestContext) {
    const zones = zonesOf(ctx.region);
    for (const n of input.ZoneNames ?? []) {
      if (!zones.some((z) => z.ZoneName === n)) throw E.param(`The zone '${n}' does not exist.`);
    }
    for (const n of input.ZoneIds ?? []) {
      if (!zones.some((z) => z.ZoneId === n)) throw E.param(`The zone ID '${n}' does not exist.`);
    }
    const match = compileFilters(input.Filters, {
      'zone-name': (d) => d.ZoneName,
      'zone-id': (d) => d.ZoneId,
      'region-name': (d) => d.RegionName,
      state: (d) => d.State,
      'opt-in-status': (d) => d.OptInStatus,
      'group-name': (d) => d.GroupName,
      'group-long-name': (d) => d.GroupLongName,
      'network-border-group': (d) => d.NetworkBorderGroup,
      'zone-type': (d) => d.ZoneType,
      'message': () => [],
    });
    const names = input.ZoneNames?.length ? new Set(input.ZoneNames) : undefined;
    const ids = input.ZoneIds?.length ? new Set(input.ZoneIds) : undefined;
    return {
      AvailabilityZones: zones.filter((z) => (!names || names.has(z.ZoneName)) && (!ids || ids.has(z.ZoneId)) && match(z)),
    };
  },

  DescribeAccountAttributes(input: { AttributeNames?: string[] }) {
    const all: Record<string, string[]> = {
      'supported-platforms': ['VPC'],
      'default-vpc': ['none'],
      'max-instances': ['1152'],
      'vpc-max-security-groups-per-interface': ['5'],
      'max-elastic-ips': ['5'],
      'vpc-max-elastic-ips': ['5'],
    };
    const names = input.AttributeNames?.length ? input.AttributeNames : Object.keys(all);
    return {
      AccountAttributes: names
        .filter((n) => all[n])
        .map((n) => ({ AttributeName: n, AttributeValues: all[n]!.map((v) => ({ AttributeValue: v })) })),
    };
  },
};
