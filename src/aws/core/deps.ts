/**
 * What every AWS provider is built with. The server (server/start.ts) makes
 * one AwsDeps and hands it to each provider factory in aws/providers.ts.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../sim/clock.ts';
import type { AwsState } from './state.ts';

/** Timing profiles for asynchronous lifecycles (see issue: EKS API). */
export type TimingProfile = 'instant' | 'fast' | 'realistic';

export interface AwsConfig {
  /** Account used when the access key names none (default 000000000000). */
  defaultAccountId: string;
  /** When true, only emulated access keys are valid and signatures are verified. */
  enforceIam: boolean;
  /** When false, EKS accepts unknown subnet/role/key ids (API-only use). */
  referenceChecks: boolean;
  /** Lifecycle timing profile. */
  timingProfile: TimingProfile;
  /** Public base URL of the AWS endpoint, e.g. http://127.0.0.1:4566. */
  awsEndpoint: string;
  /** Public base URL of the Kubernetes endpoint, e.g. https://127.0.0.1:6443. */
  kubeEndpoint: string;
  /** PEM of the instance CA that signs the Kubernetes serving certificate. */
  caCertPem: string;
}

/**
 * Verifies a web identity (OIDC) token's signature for STS
 * AssumeRoleWithWebIdentity, e.g. against a cluster's service-account issuer
 * keys. Resolves when the signature is valid; rejects (any error) otherwise.
 * STS has already checked the token's shape, issuer (a registered IAM OIDC
 * provider), audience and expiry.
 */
export type WebIdentityVerifier = (token: string, issuer: string) => Promise<void>;

export interface AwsDeps {
  state: AwsState;
  clock: Clock;
  config: AwsConfig;
  log: Logger;
  /** Optional: verifies web identity token signatures (without it, signatures are not checked). */
  webIdentityVerifier?: WebIdentityVerifier;
  /**
   * Set by the server when a data plane runs: a managed node group's version
   * or launch template update then replaces its instances
   * (sim/controllers/nodegroup-rollout.ts), which completes the update,
   * instead of the update completing after the timing profile's delay; and
   * managed node groups' Auto Scaling groups get EKS's termination lifecycle
   * hook, which sim/controllers/nodegroup-scale-in.ts completes after
   * draining the node.
   */
  nodegroupRollouts?: boolean;
}
