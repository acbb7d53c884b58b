/**
 * The eksctl-shaped commands (`create cluster`, `get`, `delete`, `scale`,
 * `upgrade`, `utils`, ...): each a commander Command built here and added to
 * the program by cli/main.ts.
 */
import type { Command } from 'commander';

export function eksctlCommands(): Command[] {
  return [];
}
