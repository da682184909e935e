import type { Route } from './http';
import type { Simulator } from './simulator';
export function v2Routes(_sim: Simulator): Route[] {
  return [];
}
