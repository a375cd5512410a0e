import * as tf from '@tensorflow/tfjs';

// tfjs's 'IS_TEST' flag silences its console notices (the "install tfjs-node" banner that every
// test file would otherwise print); it changes no numerics.
tf.env().set('IS_TEST', true);

// Every test starts on the pure-JS cpu backend: the reference implementation, present everywhere.
// Tests that exercise another backend switch explicitly and switch back.
await tf.setBackend('cpu');
await tf.ready();
