// 订阅消息: WeChat's `POST /cgi-bin/message/subscribe/send` (云调用 `subscribeMessage.send`), served
// through the server-API frame of routes-openapi.ts (access_token or 云调用 origin, faults targeting
// `subscribe`, `/sim/stats` key `subscribeSend`), and the user's side as control calls:
// `POST /sim/subscriptions {openid, templateId}` (one "allow" in wx.requestSubscribeMessage),
// `GET /sim/subscriptions?openid=`, `GET /sim/messages?openid=` (the user's 服务通知) and
// `GET /sim/templates` (the account's templates, for the console).
import { ControlError, jsonControlRoutes, type ControlHandler } from './control-api';
import { parseJsonObject, type Route } from './http';
import type { OpenApi } from './routes-openapi';
import type { Simulator } from './simulator';
import { findTemplate } from './subscribe-templates';
import type { SentMessage, SubscriptionBook } from './subscriptions';

export function subscribeSendApi(book: SubscriptionBook): OpenApi {
  return {
    path: '/cgi-bin/message/subscribe/send',
    cloudName: 'subscribeMessage.send',
    // The path's last segment, `send`, would say nothing in /sim/stats.
    statKey: 'subscribeSend',
    faultTarget: 'subscribe',
    handler: (appid, body) => book.send(appid, body),
  };
}

export function messageView(m: SentMessage) {
  return {
    msgid: m.msgid,
    openid: m.openid,
    templateId: m.templateId,
    page: m.page,
    data: m.data,
    miniprogramState: m.miniprogramState,
    lang: m.lang,
    sentAt: new Date(m.sentAt).toISOString(),
  };
}

function userOf(sim: Simulator, openid: unknown) {
  const user = typeof openid === 'string' ? sim.state.users.get(openid) : undefined;
  if (!user)
    throw new ControlError(
      404,
      `unknown test user ${JSON.stringify(openid)}; create one with POST /sim/users`,
    );
  return user;
}

export function subscribeControlRoutes(sim: Simulator, book: SubscriptionBook): Route[] {
  const templateIds = () => book.templates().map((t) => t.templateId);
  const routes: Array<[string, RegExp, ControlHandler]> = [
    [
      'POST',
      /^\/sim\/subscriptions$/,
      (ctx) => {
        const b = parseJsonObject(ctx.body);
        if (!b) throw new ControlError(400, 'body must be a JSON object {openid, templateId}');
        if (typeof b.templateId !== 'string' || !findTemplate(b.templateId))
          throw new ControlError(
            400,
            `templateId ${JSON.stringify(b.templateId)} is not one of the account's templates: ${templateIds().join(', ')}`,
          );
        const user = userOf(sim, b.openid);
        const remaining = book.grant(user.appid, user.openid, b.templateId);
        return [200, { openid: user.openid, templateId: b.templateId, remaining }];
      },
    ],
    [
      'GET',
      /^\/sim\/subscriptions$/,
      (ctx) => {
        const user = userOf(sim, ctx.url.searchParams.get('openid'));
        return [
          200,
          {
            subscriptions: templateIds().map((templateId) => ({
              openid: user.openid,
              templateId,
              remaining: book.remaining(user.appid, user.openid, templateId),
            })),
          },
        ];
      },
    ],
    [
      'GET',
      /^\/sim\/messages$/,
      (ctx) => [
        200,
        { messages: book.messages(ctx.url.searchParams.get('openid') || undefined).map(messageView) },
      ],
    ],
    [
      'GET',
      /^\/sim\/templates$/,
      () => [
        200,
        {
          templates: book
            .templates()
            .map((t) => ({ templateId: t.templateId, title: t.title, keys: t.keys })),
        },
      ],
    ],
  ];
  return jsonControlRoutes('subscription control', routes);
}
