// The reference workloads of the benchmarks (issue 13/18), uncompiled, built with the tfjs
// namespace the caller passes (tfjs-node or @tensorflow/tfjs):
// MLP 784-512-256-10 and CNN conv3×3 32-32-pool-64-64-pool-dense, batch norm + ReLU after each
// hidden layer.

export function referenceMlp(tf) {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [784], units: 512, useBias: false }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.dense({ units: 256, useBias: false }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

export function referenceCnn(tf) {
  const m = tf.sequential();
  const block = (filters, first) => {
    m.add(
      tf.layers.conv2d({
        ...(first ? { inputShape: [28, 28, 1] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
      }),
    );
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.activation({ activation: 'relu' }));
  };
  block(32, true);
  block(32);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  block(64);
  block(64);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}
