/**
 * Synchronous work to do when this thread's process exits (the 'exit' event: process.exit(), an uncaught error) with
 * resources still open — one listener per thread, there only while a hook is registered. Hooks run in the order they
 * were added.
 *
 * Why: right after 'exit', Node terminates the worker threads. An inference worker terminated inside one of
 * onnxruntime-node's synchronous native calls (session create, run, release) has its N-API calls refused once its
 * environment stops, and that addon rethrows the refusal as a C++ exception through V8: `terminate called after
 * throwing an instance of 'Napi::Error'`, SIGABRT, whatever the exit code was meant to be. So the pipeline and its
 * inference backend get one last synchronous step before that (docs/architecture.md, "Exiting with a pipeline open").
 */
const hooks = new Map<object, () => void>();
const runHooks = (): void => {
  for (const hook of hooks.values()) hook();
};

/** Runs `hook` on 'exit' until {@link offExit}(owner). One hook per owner. */
export function onExit(owner: object, hook: () => void): void {
  if (hooks.size === 0) process.on('exit', runHooks);
  hooks.set(owner, hook);
}

export function offExit(owner: object): void {
  if (hooks.delete(owner) && hooks.size === 0) process.off('exit', runHooks);
}
