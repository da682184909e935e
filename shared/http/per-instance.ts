// Keyed on the configuration and logger objects, which are one per instance (getConfig, one
// consoleLogger per function): a new configuration (as in tests) builds anew.
import type { AppConfig } from '../config/config';
import type { Logger } from '../log';

/**
 * Builds a function's dependencies on its first invocation and keeps them for the instance's life:
 * the configuration, the database and the gateways are per instance, so rebuilding them per call is
 * work the platform bills for nothing (docs/numbers.md, warm invocation).
 */
export function perInstance<D>(
  build: (config: AppConfig, log: Logger) => D,
): (config: AppConfig, log: Logger) => D {
  let built: { config: AppConfig; log: Logger; deps: D } | undefined;
  return (config, log) => {
    if (built?.config !== config || built.log !== log) built = { config, log, deps: build(config, log) };
    return built.deps;
  };
}
