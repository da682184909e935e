// The subscription step of checkout: WeChat's dialog for one-time messages (paid, refunded, shipped),
// answered with the template ids the user accepted. It never fails: a refusal, a dialog that cannot
// open (messages turned off, an unknown id, an old WeChat) or anything unexpected is "no ids", and the
// payment goes on without messages.
import type { SubscribeMessageResult, WxPort } from '../lib/wx-port';

export const MAX_TEMPLATES_PER_ASK = 3;

/**
 * Opens the dialog for `tmplIds` (at most 3 are asked). Call it synchronously in the tap handler:
 * WeChat only opens the dialog from a user's tap.
 */
export function askSubscriptions(
  wx: Pick<WxPort, 'requestSubscribeMessage'>,
  tmplIds: readonly string[],
): Promise<string[]> {
  const asked = [...new Set(tmplIds)].slice(0, MAX_TEMPLATES_PER_ASK);
  if (asked.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    try {
      wx.requestSubscribeMessage({
        tmplIds: asked,
        success: (res: SubscribeMessageResult) => resolve(asked.filter((id) => res[id] === 'accept')),
        fail: () => resolve([]),
      });
    } catch {
      resolve([]);
    }
  });
}
