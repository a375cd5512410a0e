import * as tf from '@tensorflow/tfjs';

// Every test starts on the pure-JS cpu backend: the reference implementation, present everywhere.
// Tests that exercise another backend switch explicitly and switch back.
await tf.setBackend('cpu');
await tf.ready();
