// What a v2 notification endpoint answers: WeChat stops retrying on SUCCESS and retries on FAIL.
import { buildV2Xml } from './xml';

export const V2_ACK_SUCCESS =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

export function v2AckFail(message: string): string {
  return buildV2Xml({ return_code: 'FAIL', return_msg: message });
}
