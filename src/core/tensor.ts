/**
 * A dense float64 tensor, row-major. The whole project computes in float64.
 *
 * @example
 * const x = tensor([1, 2, 3, 4], [2, 2]);
 */
export type Tensor = { data: Float64Array; shape: number[] };

/** Number of elements a shape holds. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Builds a tensor, copying `data` into a fresh Float64Array; throws if the size does not match the shape. */
export function tensor(data: ArrayLike<number>, shape: number[]): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new RangeError(`tensor: bad dimension ${d} in shape [${shape.join(', ')}]`);
  }
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new RangeError(
      `tensor: ${data.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`,
    );
  }
  return { data: Float64Array.from(data), shape: [...shape] };
}

/** A zero-filled tensor of the given shape. */
export function zeros(shape: number[]): Tensor {
  return { data: new Float64Array(sizeOf(shape)), shape: [...shape] };
}

/** Deep copy. */
export function cloneTensor(t: Tensor): Tensor {
  return { data: t.data.slice(), shape: [...t.shape] };
}
