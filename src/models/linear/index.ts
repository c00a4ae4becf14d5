export { LinearModel, type LinearModelOptions, type LinearModelState } from './linearModel.js';
