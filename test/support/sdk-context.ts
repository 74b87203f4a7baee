/** Where the SDK keeps a call's context, the command among it (@smithy/types' SMITHY_CONTEXT_KEY). */
const SMITHY_CONTEXT_KEY = '__smithy_context';

/** An SDK client's middleware stack, as far as this needs it (its `add` is overloaded per step). */
interface StackLike {
  add(middleware: never, options: { step: 'initialize'; name: string }): void;
}

type Middleware = (next: (args: unknown) => unknown, context: object) => (args: unknown) => unknown;

/**
 * Records, for every call through `stack`, the command its handler context names: with cached middleware that is the
 * first command of the class, the one the client keeps for as long as it lives.
 */
export function keptCommands(stack: StackLike): Array<{ input: object }> {
  const kept: Array<{ input: object }> = [];
  const observe: Middleware = (next, context) => (args) => {
    const instance = (context as Record<string, { commandInstance?: { input: object } } | undefined>)[SMITHY_CONTEXT_KEY]?.commandInstance;
    if (instance) kept.push(instance);
    return next(args);
  };
  stack.add(observe as never, { step: 'initialize', name: 'keptCommand' });
  return kept;
}
