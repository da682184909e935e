// Tools and tests read every variable, WX_SUBSCRIBE_TEMPLATES included.
import './subscribe-templates';
export * from './config';
export * from './declaration';
export * from './errors';
export * from './keys';
export * from './secret';
export * from './variables';
