import type { ReactNode } from 'react';
import './globals.css';

export const metadata = { title: 'Ledger', description: 'Usage-based billing' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="top">
          <a href="/" className="brand">Ledger</a>
          <nav>
            <a href="/plans">Plans</a>
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
