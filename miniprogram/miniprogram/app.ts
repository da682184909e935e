// App entry: initialise wx.cloud, build the services once, sign in silently.
import { CLOUD_ENV } from './config';
import type { Cart } from './logic/cart';
import { emptyCart } from './logic/cart';
import { type Services, createServices } from './lib/services';
import type { WxPort } from './lib/wx-port';

export interface AppOption {
  services: Services;
  /** The cart travels from the catalog page to checkout through here. */
  cart: Cart;
  signedIn: Promise<void>;
}

// The real `wx` must satisfy the port the logic modules were written (and tested) against.
const port: WxPort = wx;

App<AppOption>({
  services: createServices(port),
  cart: emptyCart(),
  signedIn: Promise.resolve(),

  onLaunch() {
    wx.cloud.init(CLOUD_ENV ? { env: CLOUD_ENV, traceUser: true } : { traceUser: true });
    this.signedIn = this.services.auth.signIn().then(
      () => undefined,
      // Pages retry through withSession; the launch must not fail because of a bad network.
      (error: unknown) => console.warn('silent sign-in failed', error),
    );
  },
});
