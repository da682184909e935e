// account: the caller's own account. `{ action: 'bindPhone', code }` exchanges the code of
// `<button open-type="getPhoneNumber">` through WeChat (phonenumber.getPhoneNumber, 云调用 or
// https + stable_token) and stores the number on the user; `{ action: 'getPhone' }` reads it back.
// Both answer `{ phone }` for the caller only. A separate callable rather than a login action: login
// is public (it identifies the caller), this one needs a signed-in caller and the WeChat server API.
import type { AccountResponse } from '../../shared/contracts/api';
import { getRepositories } from '../../shared/db/repositories';
import { authedCallable } from '../../shared/http/callable';
import { bindPhone, getPhone, readAction } from '../../shared/usecases/account';
import { callOpenApi } from '../../shared/wechat/openapi/client';

export const main = authedCallable<AccountResponse>('account', async ({ fields, caller, now }) => {
  const users = getRepositories().users;
  if (readAction(fields) === 'getPhone') return getPhone({ users }, caller.openid);
  return bindPhone({ users, callOpenApi }, { openid: caller.openid, fields, now });
});
