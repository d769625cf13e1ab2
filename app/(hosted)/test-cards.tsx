/** Stripe's test card numbers, as the sandbox takes them (server/ledger/payment/sandbox.ts). */
export function TestCardList() {
  const cards = [
    ['4242 4242 4242 4242', 'Succeeds'],
    ['4000 0025 0000 3155', '3-D Secure'],
    ['4000 0000 0000 0002', 'Declined'],
    ['4000 0000 0000 9995', 'Insufficient funds'],
    ['4000 0000 0000 0341', 'Declined when charged'],
  ] as const;
  return (
    <ul className="card-list">
      {cards.map(([n, what]) => (
        <li key={n}>
          <code>{n}</code> <span className="muted">{what}</span>
        </li>
      ))}
    </ul>
  );
}
