// The registry of the libtorch operators src/torch calls, each declared with the arguments its wrapper passes.
// No imports: wrappers declare their operators while the modules of the tensor.js import cycle load.

/**
 * One operator as a wrapper declares it: 'aten::sum.dim_IntList(self, dim, keepdim, dtype)' is the schema
 * name, the overload, and the arguments the wrapper passes, by position, named as in libtorch's schema.
 */
export interface OpDeclaration {
  /** 'aten::sum' */
  name: string;
  /** 'dim_IntList', or '' for the default overload. */
  overload: string;
  /** The argument names the wrapper passes, in order: the schema's first arguments must carry these names. */
  args: string[];
  /** Whether it runs on a background thread (defineAsyncOp). */
  async: boolean;
}

const declarations: OpDeclaration[] = [];

/**
 * Every operator src/torch has declared so far (each module declares its operators when it loads): the
 * schema test checks them all against libtorch, so that a libtorch upgrade that renames an overload or
 * moves an argument fails in CI instead of at a user's first call.
 */
export function declaredOps(): readonly OpDeclaration[] {
  return declarations;
}

const DECLARATION = /^([a-z_]+::[A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?\(([A-Za-z0-9_, ]*)\)$/;

export function declare(signature: string, async: boolean): OpDeclaration {
  const match = DECLARATION.exec(signature);
  if (!match) throw new Error(`operator declaration '${signature}' is not of the form 'aten::name.overload(arg, ...)'`);
  const [, name, overload = '', list] = match;
  const declaration = {
    name,
    overload,
    args: list
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    async,
  };
  declarations.push(declaration);
  return declaration;
}
