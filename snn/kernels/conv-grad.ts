import * as tf from '@tensorflow/tfjs-core';

/**
 * Conv2DBackpropFilter for backends that lack it (tfjs-backend-wasm 4.x): the filter gradient of a
 * conv2d, dW[kh, kw, ci, co] = sum over b, y, x of xPadded[b, y*s + kh, x*s + kw, ci] * dy[b, y, x, co].
 * That sum is itself a convolution once batch and channels swap roles: convolve x as [Ci, H, W, B]
 * (Ci images of B channels) with dy as the filter [Ho, Wo, B, Co], dilated by the stride; the output
 * [Ci, KH, KW, Co] is the gradient. One conv2d that XNNPACK runs, plus three transposes; slicing the
 * input once per filter tap (im2col) costs far more kernel calls on wasm.
 */
export function conv2dBackpropFilterViaConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: tf.Conv2DBackpropFilterAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight, filterWidth, strideHeight, strideWidth, outHeight, outWidth, padInfo } = info;
  return tf.tidy(() => {
    // Rows/columns past the last one the forward conv read do not contribute: crop them, then pad the
    // far side so that the output is exactly KH x KW.
    const usedHeight = (outHeight - 1) * strideHeight + filterHeight - padInfo.top;
    const usedWidth = (outWidth - 1) * strideWidth + filterWidth - padInfo.left;
    const cropped =
      usedHeight < info.inHeight || usedWidth < info.inWidth
        ? tf.slice(
            x,
            [0, 0, 0, 0],
            [-1, Math.min(usedHeight, info.inHeight), Math.min(usedWidth, info.inWidth), -1],
          )
        : x;
    const bottom = usedHeight - (cropped.shape[1] as number);
    const right = usedWidth - (cropped.shape[2] as number);
    const images = tf.transpose(cropped, [3, 1, 2, 0]);
    const kernel = tf.transpose(dy, [1, 2, 0, 3]);
    const grad = tf.conv2d(
      images,
      kernel,
      1,
      [
        [0, 0],
        [padInfo.top, bottom],
        [padInfo.left, right],
        [0, 0],
      ],
      'NHWC',
      [strideHeight, strideWidth],
    );
    return tf.transpose(grad, [1, 2, 0, 3]);
  });
}

/**
 * Conv2DBackpropInput for stride 1 as a forward conv2d (XNNPACK) of dy with the filter flipped in
 * space and with in/out channels swapped; tfjs-backend-wasm's own kernel is a plain loop, several
 * times slower. Other strides go to the backend's kernel.
 */
export function conv2dBackpropInputViaConv(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  pad: tf.Conv2DBackpropInputAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape,
    1,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight, filterWidth, padInfo } = info;
  return tf.tidy(() => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const top = filterHeight - 1 - padInfo.top;
    const left = filterWidth - 1 - padInfo.left;
    const bottom = inputShape[1] + filterHeight - 1 - top - (dy.shape[1] as number);
    const right = inputShape[2] + filterWidth - 1 - left - (dy.shape[2] as number);
    return tf.conv2d(dy, flipped, 1, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  });
}

function isStrideOne(strides: number | [number, number]): boolean {
  return typeof strides === 'number' ? strides === 1 : strides[0] === 1 && strides[1] === 1;
}

/**
 * Registers the convolution gradient kernels this project needs on a backend: Conv2DBackpropFilter
 * when it has none, and a faster stride-1 Conv2DBackpropInput in front of its own. Once per backend.
 */
export function registerConvGradKernels(backendName: string): void {
  if (tf.getKernel('Conv2DBackpropFilter', backendName) === undefined) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName,
      kernelFunc: ({ inputs, attrs }) => {
        const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
        const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
        requireNhwc(a.dataFormat, 'Conv2DBackpropFilter', backendName);
        // Ops called inside a kernel are not taped (engine kernelDepth > 0); the result is a tracked tensor.
        return conv2dBackpropFilterViaConv(x, dy, a.filterShape, a.strides, a.pad, a.dimRoundingMode);
      },
    });
  }
  const original = tf.getKernel('Conv2DBackpropInput', backendName);
  if (original !== undefined && !fasterInputGrad.has(backendName)) {
    fasterInputGrad.add(backendName);
    tf.unregisterKernel('Conv2DBackpropInput', backendName);
    tf.registerKernel({
      kernelName: 'Conv2DBackpropInput',
      backendName,
      kernelFunc: (args) => {
        const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
        if (!isStrideOne(a.strides) || (a.dataFormat !== undefined && a.dataFormat !== 'NHWC')) {
          return original.kernelFunc(args);
        }
        const { dy, filter } = args.inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
        return conv2dBackpropInputViaConv(dy, filter, a.inputShape, a.pad, a.dimRoundingMode);
      },
    });
  }
}

const fasterInputGrad = new Set<string>();

function requireNhwc(dataFormat: string | undefined, kernel: string, backendName: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on ${backendName}: only NHWC is implemented, got ${dataFormat}`);
  }
}
