// The CSV layouts WeChat Pay documents for the daily bills (交易账单 ALL, 资金账单 BASIC): the exact
// column names in their order, and the summary header that closes each file. Header lines are plain
// text; every data and summary field is prefixed with a backtick so that spreadsheets keep long ids.

export const TRADE_BILL_ALL_COLUMNS = [
  '交易时间',
  '公众账号ID',
  '商户号',
  '特约商户号',
  '设备号',
  '微信订单号',
  '商户订单号',
  '用户标识',
  '交易类型',
  '交易状态',
  '付款银行',
  '货币种类',
  '应结订单金额',
  '代金券金额',
  '微信退款单号',
  '商户退款单号',
  '退款金额',
  '充值券退款金额',
  '退款类型',
  '退款状态',
  '商品名称',
  '商户数据包',
  '手续费',
  '费率',
  '订单金额',
  '申请退款金额',
  '费率备注',
] as const;

export const TRADE_BILL_ALL_SUMMARY = [
  '总交易单数',
  '应结订单总金额',
  '退款总金额',
  '充值券退款总金额',
  '手续费总金额',
  '订单总金额',
  '申请退款总金额',
] as const;

export const FUND_FLOW_COLUMNS = [
  '记账时间',
  '微信支付业务单号',
  '资金流水单号',
  '业务名称',
  '业务类型',
  '收支类型',
  '收支金额(元)',
  '账户结余(元)',
  '资金变更提交申请人',
  '备注',
  '业务凭证号',
] as const;

export const FUND_FLOW_SUMMARY = ['资金流水总笔数', '收入笔数', '收入金额', '支出笔数', '支出金额'] as const;

/** Column index by name, checked at compile time. */
export function col<T extends readonly string[]>(columns: T, name: T[number]): number {
  return columns.indexOf(name);
}
