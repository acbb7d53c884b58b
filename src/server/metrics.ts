/**
 * The Prometheus metrics of one localeks server (served on the AWS port at
 * /_localeks/metrics). Each server has its own registry, so several servers in
 * one process (tests, the library API) do not share counters.
 *
 * Names follow the upstream conventions where one exists: kube-apiserver's
 * apiserver_request_total / apiserver_request_duration_seconds become
 * localeks_kube_requests_total / localeks_kube_request_duration_seconds.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One server's metrics. */
export interface ServerMetrics {
  registry: Registry;
  awsRequests: Counter<'service' | 'operation' | 'code'>;
  awsRequestDuration: Histogram<'service' | 'operation' | 'code'>;
  kubeRequests: Counter<'verb' | 'resource' | 'code'>;
  kubeRequestDuration: Histogram<'verb' | 'resource' | 'code'>;
  /** Store operations by kind (create, update, put, delete, txn, get, range, compact, lease) and result (ok or the StoreError code). */
  storeOps: Counter<'op' | 'result'>;
  /** Keys written (a txn counts each of its operations). */
  storeWrites: Counter<'op'>;
  storeWatchEvents: Counter;
  storeWatchers: Gauge;
  /** In-flight HTTP requests by endpoint (aws, kube). */
  inflight: Gauge<'endpoint'>;
}

/** createServerMetrics makes a fresh registry with process metrics and localeks' own. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    awsRequests: new Counter({
      name: 'localeks_aws_requests_total',
      help: 'AWS API requests by service, operation and HTTP status code',
      labelNames: ['service', 'operation', 'code'],
      registers,
    }),
    awsRequestDuration: new Histogram({
      name: 'localeks_aws_request_duration_seconds',
      help: 'AWS API request latency by service, operation and HTTP status code',
      labelNames: ['service', 'operation', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    kubeRequests: new Counter({
      name: 'localeks_kube_requests_total',
      help: 'Kubernetes API requests by verb, resource and HTTP status code',
      labelNames: ['verb', 'resource', 'code'],
      registers,
    }),
    kubeRequestDuration: new Histogram({
      name: 'localeks_kube_request_duration_seconds',
      help: 'Kubernetes API request latency by verb, resource and HTTP status code (watches: until the stream ends)',
      labelNames: ['verb', 'resource', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    storeOps: new Counter({
      name: 'localeks_store_operations_total',
      help: 'Store calls by operation and result (ok or the store error code)',
      labelNames: ['op', 'result'],
      registers,
    }),
    storeWrites: new Counter({
      name: 'localeks_store_writes_total',
      help: 'Keys written to the store by operation (create, update, put, delete); a transaction counts each of its operations',
      labelNames: ['op'],
      registers,
    }),
    storeWatchEvents: new Counter({
      name: 'localeks_store_watch_events_total',
      help: 'Watch events delivered to store watchers',
      registers,
    }),
    storeWatchers: new Gauge({
      name: 'localeks_store_watchers',
      help: 'Open store watches',
      registers,
    }),
    inflight: new Gauge({
      name: 'localeks_http_inflight_requests',
      help: 'HTTP requests in progress by endpoint (aws, kube)',
      labelNames: ['endpoint'],
      registers,
    }),
  };
}
