/** The languages the widgets speak; the first is the page's own. */
export const WIDGET_LANGUAGES = ['en', 'de', 'fr'] as const;
export type WidgetLanguage = (typeof WIDGET_LANGUAGES)[number];

const QUERY_PARAMETER = 'lang';

function isWidgetLanguage(value: string | null): value is WidgetLanguage {
  return (WIDGET_LANGUAGES as readonly (string | null)[]).includes(value);
}

/**
 * Sets `lang` on the page (the widgets follow the closest `lang`) from the picker, and keeps the
 * choice in the address (`?lang=de`) so a reload or a shared link shows the same language.
 */
export function followLanguagePicker(picker: HTMLSelectElement | null): void {
  if (!picker) return;
  const apply = (language: WidgetLanguage): void => {
    document.documentElement.lang = language;
    picker.value = language;
  };
  const fromAddress = new URL(location.href).searchParams.get(QUERY_PARAMETER);
  if (isWidgetLanguage(fromAddress)) apply(fromAddress);
  picker.addEventListener('change', () => {
    if (!isWidgetLanguage(picker.value)) return;
    apply(picker.value);
    const url = new URL(location.href);
    if (picker.value === WIDGET_LANGUAGES[0]) url.searchParams.delete(QUERY_PARAMETER);
    else url.searchParams.set(QUERY_PARAMETER, picker.value);
    history.replaceState(history.state, '', url);
  });
}
