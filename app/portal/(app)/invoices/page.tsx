import Link from 'next/link';
import { Card } from '../../_components/card';
import { EmptyState } from '../../_components/states';
import { buttonPrimary, buttonSecondary } from '../../_components/buttons';
import { portalApi } from '../portal-api';
import { InvoiceTable } from './invoice-table';

export const metadata = { title: 'Invoices' };

const PER_PAGE = 12;

type Search = Promise<Record<string, string | string[] | undefined>>;

/** /portal/invoices: every invoice, newest first, a page at a time. */
export default async function InvoicesPage({ searchParams }: { searchParams: Search }) {
  const q = await searchParams;
  const asked = Number(typeof q.page === 'string' ? q.page : '1');
  const page = Number.isInteger(asked) && asked >= 1 && asked <= 10_000 ? asked : 1;
  const api = await portalApi(page > 1 ? `/portal/invoices?page=${page}` : '/portal/invoices');
  const list = await api.invoices.list({ page, perPage: PER_PAGE });
  const first = (list.page - 1) * PER_PAGE + 1;
  const last = first + list.rows.length - 1;

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Invoices</h1>
        <p className="mt-1 text-sm text-slate-600">Every invoice for your account. Open one to see its lines, payments and PDF.</p>
      </div>
      <Card padded={false}>
        {list.total === 0 ? (
          <EmptyState
            title="No invoices yet"
            action={
              <Link href="/portal" className={buttonSecondary}>
                Back to overview
              </Link>
            }
          >
            Invoices appear here as soon as your plan bills: the first one at the start of a paid plan, or when a trial ends.
          </EmptyState>
        ) : (
          <>
            <InvoiceTable rows={list.rows} caption={`Invoices ${first} to ${last} of ${list.total}, newest first`} />
            <nav aria-label="Invoice pages" className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-200 px-5 py-3 text-sm sm:px-6">
              <p className="text-slate-600">
                {first}–{last} of {list.total}
              </p>
              {list.pageCount > 1 && (
                <div className="flex gap-2">
                  {list.page > 1 ? (
                    <Link href={`/portal/invoices?page=${list.page - 1}`} className={buttonSecondary} rel="prev">
                      Newer
                    </Link>
                  ) : (
                    <span className={`${buttonSecondary} pointer-events-none opacity-50`} aria-disabled="true">
                      Newer
                    </span>
                  )}
                  {list.page < list.pageCount ? (
                    <Link href={`/portal/invoices?page=${list.page + 1}`} className={buttonPrimary} rel="next">
                      Older
                    </Link>
                  ) : (
                    <span className={`${buttonSecondary} pointer-events-none opacity-50`} aria-disabled="true">
                      Older
                    </span>
                  )}
                </div>
              )}
            </nav>
          </>
        )}
      </Card>
    </div>
  );
}
