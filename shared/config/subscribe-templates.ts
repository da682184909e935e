// Installs the WX_SUBSCRIBE_TEMPLATES parser (shared/domain/subscription.ts) into AppConfig. It is
// kept out of config.ts so that the bundles that never read the variable (orders, login, …) do not
// carry its validation: the modules that read it import this one (usecases/message-deps.ts,
// createPayment, shared/config/index.ts for the deploy checks and tests).
import { parseSubscribeTemplates } from '../domain/subscription';
import { installSubscribeTemplateParser } from './config';

installSubscribeTemplateParser(parseSubscribeTemplates);
