/**
 * The AWS gateway: one HTTP handler for every emulated AWS service.
 * (Implementation in progress; the exported contract is final.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AwsDeps } from './deps.ts';
import type { AwsProvider } from './types.ts';

/** What the gateway reports after each request (for metrics). */
export interface AwsRequestInfo {
  service: string;
  operation: string;
  status: number;
  durationMs: number;
  accountId: string;
  region: string;
  requestId: string;
  errorCode?: string;
}

export interface AwsGatewayOptions {
  providers: AwsProvider[];
  deps: AwsDeps;
  onRequest?: (info: AwsRequestInfo) => void;
}

/**
 * createAwsGateway returns the handler the server mounts on the AWS port for
 * every path not under /_localeks/.
 */
export function createAwsGateway(opts: AwsGatewayOptions): { handle(req: IncomingMessage, res: ServerResponse): Promise<void> } {
  void opts;
  return {
    async handle(_req, res) {
      res.statusCode = 501;
      res.end();
    },
  };
}
