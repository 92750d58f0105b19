/** The reaction both sides of the benchmark make: an OrderShipped earns one PointsAwarded, nothing else. */
export function pointsOf(orderId: string, customerId: string, at: number) {
  return { orderId, customerId, points: 1, total: { amount: 100, currency: 'EUR' }, balance: 1, awardedAt: at };
}
