/**
 * The EC2 errors localeks returns, with the codes and messages EC2 uses.
 * EC2 answers every client error with HTTP 400.
 */
import { awsError, type AwsServiceError } from '../core/types.ts';

export function ec2Error(code: string, message: string): AwsServiceError {
  return awsError(code, message, 400);
}

/** notFound builds `<Code>.NotFound`-style errors: "The vpc ID 'vpc-1' does not exist". */
export function notFound(code: string, what: string, id: string): AwsServiceError {
  return ec2Error(code, `The ${what} '${id}' does not exist`);
}

export const E = {
  vpc: (id: string) => notFound('InvalidVpcID.NotFound', 'vpc ID', id),
  subnet: (id: string) => notFound('InvalidSubnetID.NotFound', 'subnet ID', id),
  group: (id: string) => notFound('InvalidGroup.NotFound', 'security group', id),
  groupId: (id: string) => ec2Error('InvalidGroupId.Malformed', `Invalid id: "${id}" (expecting "sg-...")`),
  routeTable: (id: string) => notFound('InvalidRouteTableID.NotFound', 'routeTable ID', id),
  networkAcl: (id: string) => notFound('InvalidNetworkAclID.NotFound', 'networkAcl ID', id),
  dhcpOptions: (id: string) => notFound('InvalidDhcpOptionID.NotFound', 'dhcpOption ID', id),
  igw: (id: string) => notFound('InvalidInternetGatewayID.NotFound', 'internetGateway ID', id),
  nat: (id: string) => ec2Error('NatGatewayNotFound', `The Nat Gateway ${id} was not found`),
  allocation: (id: string) => ec2Error('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`),
  association: (id: string) => ec2Error('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`),
  instance: (id: string) => notFound('InvalidInstanceID.NotFound', 'instance ID', id),
  eni: (id: string) => notFound('InvalidNetworkInterfaceID.NotFound', 'networkInterface ID', id),
  keyPair: (name: string) => ec2Error('InvalidKeyPair.NotFound', `The key pair '${name}' does not exist`),
  vpcEndpoint: (id: string) => ec2Error('InvalidVpcEndpointId.NotFound', `The VpcEndpoint ID '${id}' does not exist`),
  param: (msg: string) => ec2Error('InvalidParameterValue', msg),
  missing: (name: string) => ec2Error('MissingParameter', `The request must contain the parameter ${name}`),
  combination: (msg: string) => ec2Error('InvalidParameterCombination', msg),
  dependency: (msg: string) => ec2Error('DependencyViolation', msg),
  badCidr: (cidr: string, param = 'cidrBlock') =>
    ec2Error('InvalidParameterValue', `Value (${cidr}) for parameter ${param} is invalid. This is not a valid CIDR block.`),
};
