// Stops the localeks that global-setup.mjs started (same process, same globalThis).
export default async function globalTeardown() {
  await globalThis.__LOCALEKS__?.stop();
}
