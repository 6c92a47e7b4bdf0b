import { register } from 'node:module';

/**
 * Resolves the extensionless relative imports of tfjs-core's ES module files ('./gradients/Abs_grad'),
 * which Node's ESM loader rejects; only for files under @tensorflow/tfjs-core/dist/.
 */
const TFJS_CORE_ESM_RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (specifier.startsWith('.') && context.parentURL?.includes('/@tensorflow/tfjs-core/dist/')) {
      return next(specifier + '.js', context);
    }
    throw error;
  }
}`;

let registered: Promise<void> | undefined;

/**
 * Registers tfjs's gradient functions (tf.grad / variableGrads need them). The umbrella @tensorflow/tfjs
 * package does this by importing register_all_gradients; tfjs-core's Node bundle leaves it out and its ES
 * module files cannot be imported by Node as they are, hence the resolve hook. The configs land in the
 * global gradient registry that the tfjs-core Node bundle reads. Once per process; takes a few seconds.
 */
export function registerAllGradients(): Promise<void> {
  registered ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(TFJS_CORE_ESM_RESOLVE_HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return registered;
}
