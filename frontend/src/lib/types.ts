// The API's shapes, as openapi.yaml declares them.

export interface Product {
  productId: string;
  category: string;
  name: string;
  description: string;
  /** cents */
  price: number;
  pictures: string[];
  tags: string[];
  package?: { height: number; length: number; weight: number; width: number };
  createdDate?: string;
  modifiedDate?: string;
}

export interface StockLevels {
  available: number;
  /** Admins only: the full counters. */
  reserved?: number;
  sold?: number;
  added?: number;
}

export interface ProductDetail extends Product {
  stock: StockLevels;
  inCarts: number;
}

export interface ProductPage {
  products: Product[];
  nextCursor?: string;
}

export interface BestSeller extends Product {
  unitsSold: number;
}

export interface CartLine {
  /** the product id (the sample's name for it) */
  sk: string;
  quantity: number;
  productDetail: Product;
}

export type OrderStatus = "PENDING_PAYMENT" | "PAID" | "CANCELLED" | "EXPIRED";

export interface OrderLine {
  productId: string;
  name: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  orderId: string;
  status: OrderStatus;
  lines: OrderLine[];
  total: number;
  createdAt: number;
  updatedAt: number;
  /** epoch seconds */
  expiresAt: number;
  chargeId?: string;
  failureReason?: string;
}

export interface ShortLine {
  productId: string;
  requested: number;
  available: number;
}
