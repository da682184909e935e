// Your CloudBase environment id (云开发控制台 → 设置 → 环境 ID), e.g. 'pay-demo-1a2b3c'.
// Left undefined, wx.cloud.init() uses the default environment of the mini-program, which
// is convenient while developing; pin the id before uploading a release.
export const CLOUD_ENV: string | undefined = undefined;
