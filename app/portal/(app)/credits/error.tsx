'use client';

import { PageError } from '../../_components/page-error';

export default function CreditsError(props: { error: Error & { digest?: string }; reset: () => void }) {
  return <PageError {...props} what="your credits" />;
}
