import type { AwsState } from '../core/state.ts';

/**
 * The EKS lifecycle schedules each transition's completion on a timer at its
 * stored deadline. Other parts of localeks that move a deadline through
 * eks/shared.ts (the node group rollout finishing early, or failing) call
 * rescheduleTransition so the timer follows the stored document. One
 * scheduler per AwsState (the EKS provider registers it).
 */
const schedulers = new WeakMap<AwsState, (key: string) => void>();

/** registerTransitionScheduler is called by the EKS provider with its lifecycle's re-begin for a stored key. */
export function registerTransitionScheduler(state: AwsState, reschedule: (key: string) => void): void {
  schedulers.set(state, reschedule);
}

/** rescheduleTransition re-arms the completion timer of the transition stored at key (no-op without an EKS provider). */
export function rescheduleTransition(state: AwsState, key: string): void {
  schedulers.get(state)?.(key);
}
