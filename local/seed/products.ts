// The local catalog (docs/data-model.md#products): a few items priced in integer fen, one of them inactive so
// that the "product not available" path can be exercised from the console and the tests. `fulfilment`
// says how each is delivered (issue 14): the sticker pack is virtual, the physical goods go by express.

export interface SeedProduct {
  _id: string;
  name: string;
  priceFen: number;
  active: boolean;
  description?: string;
  fulfilment: 'virtual' | 'express' | 'local-delivery' | 'pickup';
}

export const SEED_PRODUCTS: readonly SeedProduct[] = [
  {
    _id: 'coffee-latte',
    name: '拿铁咖啡 Latte',
    priceFen: 2800,
    active: true,
    description: '16 oz, oat milk on request',
    fulfilment: 'express',
  },
  {
    _id: 'tea-oolong',
    name: '乌龙茶 Oolong tea',
    priceFen: 1500,
    active: true,
    description: 'Tieguanyin, 50 g tin',
    fulfilment: 'express',
  },
  {
    _id: 'cake-cheese',
    name: '芝士蛋糕 Cheesecake',
    priceFen: 3250,
    active: true,
    description: 'One slice',
    fulfilment: 'express',
  },
  {
    _id: 'sticker-pack',
    name: '贴纸包 Sticker pack',
    priceFen: 1,
    active: true,
    description: 'Costs 1 fen: the cheapest real payment',
    fulfilment: 'virtual',
  },
  {
    _id: 'mooncake-box',
    name: '月饼礼盒 Mooncake box',
    priceFen: 16800,
    active: false,
    description: 'Seasonal; not for sale now',
    fulfilment: 'express',
  },
];
