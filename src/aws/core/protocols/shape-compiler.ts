import type { ServiceModel, Shape } from '../model.ts';

/**
 * shapeCompiler memoizes one compiled function per shape name of a model, as
 * every codec (JSON, XML, query) compiles its readers and writers. While a
 * shape compiles, its name maps to a stub that forwards to the finished
 * function, so shapes that refer to themselves (directly or through members)
 * terminate.
 */
export function shapeCompiler<F extends (...args: never[]) => unknown>(model: ServiceModel, compile: (s: Shape) => F): (name: string) => F {
  const compiled = new Map<string, F>();
  const get = (name: string): F => {
    let f = compiled.get(name);
    if (f) return f;
    compiled.set(name, ((...args: Parameters<F>) => get(name)(...args)) as F);
    f = compile(model.shapes[name]!);
    compiled.set(name, f);
    return f;
  };
  return get;
}
