/**
 * The EC2 provider: every operation localeks implements, gathered from the
 * per-resource modules. Inputs and outputs are the model's shapes
 * (src/aws/models/ec2.json); state lives in AwsState (see store.ts).
 */
import type { AwsDeps } from '../core/deps.ts';
import { type AwsProvider, awsError, type OperationHandler } from '../core/types.ts';
import { addressOperations } from './addresses.ts';
import { storeOf } from './env.ts';
import { gatewayOperations } from './gateways.ts';
import { imageOperations } from './images.ts';
import { instanceTypeOperations } from './instance-types.ts';
import { instanceOperations } from './instances.ts';
import { ipv6Operations } from './ipv6.ts';
import { keyPairOperations } from './key-pairs.ts';
import { launchTemplateOperations } from './launch-templates.ts';
import { networkAclOperations } from './network-acls.ts';
import { networkInterfaceOperations } from './network-interfaces.ts';
import { regionOperations } from './regions.ts';
import { routeTableOperations } from './route-tables.ts';
import { securityGroupOperations } from './security-groups.ts';
import { subnetOperations } from './subnets.ts';
import { tagOperations } from './tags.ts';
import { volumeOperations } from './volumes.ts';
import { vpcEndpointOperations } from './vpc-endpoints.ts';
import { vpcOperations } from './vpcs.ts';

/** createEc2Provider builds the EC2 provider over deps.state and deps.clock. */
export function createEc2Provider(deps: AwsDeps): AwsProvider {
  const operations: Record<string, OperationHandler> = {
    ...regionOperations,
    ...vpcOperations(deps),
    ...subnetOperations(deps),
    ...securityGroupOperations(deps),
    ...routeTableOperations(deps),
    ...networkAclOperations(deps),
    ...gatewayOperations(deps),
    ...addressOperations(deps),
    ...networkInterfaceOperations(deps),
    ...keyPairOperations(deps),
    ...launchTemplateOperations(deps),
    ...instanceOperations(deps),
    ...instanceTypeOperations,
    ...imageOperations,
    ...vpcEndpointOperations(deps),
    ...ipv6Operations(deps),
    ...volumeOperations(deps),
    ...tagOperations((ctx) => storeOf(deps, ctx)),
  };
  // DryRun: EC2 checks the request and answers DryRunOperation (HTTP 412)
  // instead of acting. localeks validates the shape (the gateway) and then
  // answers the same way without running the handler.
  for (const [name, handler] of Object.entries(operations)) {
    operations[name] = (input, ctx) => {
      if (input?.DryRun === true) {
        throw awsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      }
      return handler(input, ctx);
    };
  }
  return { service: 'ec2', operations };
}
