import * as tf from '@tensorflow/tfjs';

// tfjs's 'PROD' flag silences its console notices (the "install tfjs-node" banner that every test
// file would otherwise print) and nothing else. ('IS_TEST' would also silence them, but turns on
// tfjs's kernel leak self-check, which misfires inside tf.losses.softmaxCrossEntropy.)
tf.env().set('PROD', true);

// Every test starts on the pure-JS cpu backend: the reference implementation, present everywhere.
// Tests that exercise another backend switch explicitly and switch back.
await tf.setBackend('cpu');
await tf.ready();
