/**
 * Small constructors for the ONNX protobuf messages the exporters write: tensors (weights as little-endian
 * `raw_data`), nodes, attributes and typed graph inputs/outputs.
 */
import { endianness } from 'node:os';
import { onnx } from '../../proto/index.js';

export const DataType = onnx.TensorProto_DataType;
export type DataType = onnx.TensorProto_DataType;

/** A dimension: a fixed size or a symbolic name (`batch`, `length`). */
export type Dimension = number | string;

type RawArray = Float32Array | Int8Array | Uint8Array | BigInt64Array;

/** A named constant tensor. Typed arrays are little-endian on every platform ONNX Runtime supports. */
export function initializer(
  name: string,
  dataType: DataType,
  dims: readonly number[],
  values: RawArray,
): onnx.TensorProto {
  if (endianness() !== 'LE') throw new Error('ONNX export needs a little-endian machine');
  const expected = dims.reduce((product, d) => product * d, 1);
  if (values.length !== expected) {
    throw new RangeError(`initializer ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
  }
  return onnx.TensorProto.fromPartial({
    name,
    dataType,
    dims: [...dims],
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  });
}

export function floatTensor(name: string, dims: readonly number[], values: Float32Array): onnx.TensorProto {
  return initializer(name, DataType.FLOAT, dims, values);
}

export function int64Tensor(name: string, values: readonly number[]): onnx.TensorProto {
  return initializer(name, DataType.INT64, [values.length], BigInt64Array.from(values, BigInt));
}

/** Attribute values by kind; an integer attribute is written as INT, a float one as FLOAT. */
export type AttributeValue =
  { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] };

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttributeValue>> = {},
): onnx.NodeProto {
  return onnx.NodeProto.fromPartial({
    name: `${opType}_${outputs[0] ?? ''}`,
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
  });
}

function attribute(name: string, value: AttributeValue): onnx.AttributeProto {
  if ('int' in value)
    return onnx.AttributeProto.fromPartial({
      name,
      type: onnx.AttributeProto_AttributeType.INT,
      i: value.int,
    });
  if ('float' in value) {
    return onnx.AttributeProto.fromPartial({
      name,
      type: onnx.AttributeProto_AttributeType.FLOAT,
      f: value.float,
    });
  }
  return onnx.AttributeProto.fromPartial({
    name,
    type: onnx.AttributeProto_AttributeType.INTS,
    ints: [...value.ints],
  });
}

/** A graph input or output: a tensor of `elemType` with the given (possibly symbolic) shape. */
export function tensorValue(
  name: string,
  elemType: DataType,
  dims: readonly Dimension[],
): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.fromPartial({
    name,
    type: {
      value: {
        $case: 'tensorType',
        value: {
          elemType,
          shape: {
            dim: dims.map((d) =>
              typeof d === 'number'
                ? { value: { $case: 'dimValue', value: d } }
                : { value: { $case: 'dimParam', value: d } },
            ),
          },
        },
      },
    },
  });
}
