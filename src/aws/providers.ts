/**
 * The list of AWS service providers the gateway serves. To add a service:
 * generate its model (scripts/gen-aws-models.py), write
 * src/aws/<service>/provider.ts exporting a factory, and add it here.
 */
import type { AwsDeps } from './core/deps.ts';
import type { AwsProvider } from './core/types.ts';
import { createAutoScalingProvider } from './autoscaling/provider.ts';
import { createEc2Provider } from './ec2/provider.ts';
import { createEksProvider } from './eks/provider.ts';
import { createEksAuthProvider } from './eks-auth/provider.ts';
import { createIamProvider } from './iam/provider.ts';
import { createKmsProvider } from './kms/provider.ts';
import { createLogsProvider } from './logs/provider.ts';
import { createStsProvider } from './sts/provider.ts';

export function createProviders(deps: AwsDeps): AwsProvider[] {
  return [
    createIamProvider(deps),
    createKmsProvider(deps),
    createLogsProvider(deps),
    createStsProvider(deps),
    createAutoScalingProvider(deps),
    createEksProvider(deps),
    createEc2Provider(deps),
    createEksAuthProvider(deps),
  ];
}
