// wx.openBusinessView (基础库 2.25.2+), which miniprogram-api-typings does not declare yet; used for
// the confirm-receipt component of 发货信息管理 (businessType 'weappOrderConfirm').
declare namespace WechatMiniprogram {
  interface Wx {
    openBusinessView(option: {
      businessType: string;
      extraData?: Record<string, unknown>;
      envVersion?: 'release' | 'trial' | 'develop';
    }): Promise<{ errMsg: string; extraData?: { status?: string; [key: string]: unknown } }>;
  }
}
