/**
 * Commands about access to clusters (`kubeconfig`, ...), added to the
 * program by cli/main.ts.
 */
import type { Command } from 'commander';

export function authCommands(): Command[] {
  return [];
}
