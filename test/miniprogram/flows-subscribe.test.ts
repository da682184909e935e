// The checkout's subscription step through the wx adapter against the local stack: the dialog opens
// once per checkout before paying, the accepted ids reach createPayment and WeChat sends the `paid`
// message; a refusal, a dialog that fails, or ids the server does not send never block the payment.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SUBSCRIBE_TEMPLATE_IDS } from '../../miniprogram/miniprogram/config';
import { add, emptyCart, toCartItems } from '../../miniprogram/miniprogram/logic/cart';
import { CheckoutFlow } from '../../miniprogram/miniprogram/logic/checkout';
import { LOCAL_SUBSCRIBE_TEMPLATES } from '../../local/stack';
import { type MiniprogramStack, type Phone, checkout, eventually, startMiniprogramStack } from './phone';

const PAID = LOCAL_SUBSCRIBE_TEMPLATES.paid.templateId;
const REFUNDED = LOCAL_SUBSCRIBE_TEMPLATES.refunded.templateId;
const SHIPPED = LOCAL_SUBSCRIBE_TEMPLATES.shipped.templateId;

let stack: MiniprogramStack;
before(async () => {
  stack = await startMiniprogramStack();
});
after(() => stack?.close());

interface SimMessage {
  templateId: string;
  data: Record<string, { value: string }>;
}

const messagesOf = async (phone: Phone) =>
  ((await stack.sim('GET', `/sim/messages?openid=${phone.openid}`)) as { messages: SimMessage[] }).messages;

const createCalls = (phone: Phone) => phone.adapter.calls.filter((c) => c.name === 'createPayment');

function flowWith(phone: Phone, subscribeTemplateIds: readonly string[]): CheckoutFlow {
  const cart = add(emptyCart(), stack.catalog[0]);
  return new CheckoutFlow(toCartItems(cart), {
    wx: phone.adapter.wx,
    api: phone.services.api,
    auth: phone.services.auth,
    confirm: { attempts: 10, intervalMs: 150 },
    subscribeTemplateIds,
  });
}

describe('subscribing at checkout', () => {
  test("the app asks for the server's three templates, which are the local stack's", () => {
    assert.deepEqual([...SUBSCRIBE_TEMPLATE_IDS], [PAID, REFUNDED, SHIPPED]);
  });

  test('accepted: the ids go to createPayment and the paid message arrives once', async () => {
    const phone = await stack.newPhone();
    const state = await checkout(phone, [stack.catalog[0]]).pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    assert.equal(phone.adapter.subscribeRequests.length, 1);
    assert.deepEqual(phone.adapter.subscribeRequests[0].tmplIds, [PAID, REFUNDED, SHIPPED]);
    assert.deepEqual(createCalls(phone)[0]?.data.subscriptions, [PAID, REFUNDED, SHIPPED]);
    const messages = await eventually('the paid message', 10_000, async () => {
      const ms = await messagesOf(phone);
      return ms.length > 0 ? ms : undefined;
    });
    assert.deepEqual(
      messages.map((m) => m.templateId),
      [PAID],
    );
    if (state.step === 'paid') assert.equal(messages[0].data.character_string4.value, state.order.orderId);
  });

  test('refused or partly accepted: only the accepted ids are passed; refusing all still pays', async () => {
    const phone = await stack.newPhone();
    phone.adapter.subscribeChoice = 'reject';
    phone.adapter.subscribeChoices.set(REFUNDED, 'accept');
    const partly = await checkout(phone, [stack.catalog[0]]).pay();
    assert.equal(partly.step, 'paid', JSON.stringify(partly));
    assert.deepEqual(createCalls(phone)[0]?.data.subscriptions, [REFUNDED]);

    phone.adapter.subscribeChoices.clear();
    const none = await checkout(phone, [stack.catalog[1]]).pay();
    assert.equal(none.step, 'paid', JSON.stringify(none));
    assert.equal('subscriptions' in (createCalls(phone)[1]?.data ?? {}), false, 'no empty list is sent');
    assert.deepEqual(await messagesOf(phone), [], 'no paid message without the paid template accepted');
  });

  test('messages switched off in WeChat (20004): the payment goes on without ids', async () => {
    const phone = await stack.newPhone();
    phone.adapter.subscribeMessagesOff = true;
    const state = await checkout(phone, [stack.catalog[0]]).pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    assert.match(phone.adapter.subscribeRequests[0]?.failure ?? '', /20004|switched off/);
    assert.equal('subscriptions' in (createCalls(phone)[0]?.data ?? {}), false);
  });

  test('a dialog that fails (an id the account lacks) never blocks the payment', async () => {
    const phone = await stack.newPhone();
    const flow = flowWith(phone, ['NotATemplateOfThisAccount000000000000000000']);
    const state = await flow.pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    assert.match(phone.adapter.subscribeRequests[0]?.failure ?? '', /requestSubscribeMessage:fail/);
    assert.equal('subscriptions' in (createCalls(phone)[0]?.data ?? {}), false);
    assert.deepEqual(await flow.accepted(), []);
  });

  test('cancelling and paying again asks once: a second tap grants nothing more', async () => {
    const phone = await stack.newPhone();
    const flow = flowWith(phone, [PAID]);
    phone.adapter.payOutcome = 'cancel';
    const first = flow.pay();
    // WeChat opens the dialog only from within the tap: it must be asked before the first await.
    assert.equal(phone.adapter.subscribeRequests.length, 1, 'asked synchronously in the tap');
    assert.equal((await first).step, 'cancelled');
    phone.adapter.payOutcome = 'success';
    assert.equal((await flow.pay()).step, 'paid');
    assert.equal(phone.adapter.subscribeRequests.length, 1);
    assert.deepEqual(
      createCalls(phone).map((c) => c.data.subscriptions),
      [[PAID], [PAID]],
    );
    await eventually('the paid message', 10_000, async () =>
      (await messagesOf(phone)).length === 1 ? true : undefined,
    );
  });

  test('ids the server does not send (config.ts and WX_SUBSCRIBE_TEMPLATES differ): paid without messages', async () => {
    const { paid } = LOCAL_SUBSCRIBE_TEMPLATES;
    stack.e2e.setEnv({ WX_SUBSCRIBE_TEMPLATES: JSON.stringify({ paid }) });
    try {
      const phone = await stack.newPhone();
      const flow = flowWith(phone, [PAID, SHIPPED]);
      const state = await flow.pay();
      assert.equal(state.step, 'paid', JSON.stringify(state));
      const calls = createCalls(phone);
      assert.deepEqual(
        calls.map((c) => c.data.subscriptions),
        [[PAID, SHIPPED], undefined],
      );
      assert.match(JSON.stringify(calls[0].result), /INVALID_ARGUMENT/);
      assert.deepEqual(await messagesOf(phone), []);
    } finally {
      stack.e2e.setEnv({ WX_SUBSCRIBE_TEMPLATES: stack.e2e.baseEnv.WX_SUBSCRIBE_TEMPLATES });
    }
  });
});
