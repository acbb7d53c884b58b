/**
 * The per-cluster Kubernetes API server. The gateway wires
 * createClusterApiServer's handler under /clusters/<endpointId>; the EKS
 * lifecycle calls bootstrapCluster when a cluster becomes ACTIVE.
 */
export { createClusterApiServer, type ClusterApiServer, type ClusterApiServerOptions } from './server.ts';
export { bootstrapCluster } from './bootstrap.ts';
export { ClusterRegistry } from './registry/generic-store.ts';
