/**
 * Browser notifications through the Notification API. Permission is asked only from a user's click
 * (`requestPermission`), as browsers require; notifications are sent while the page is hidden (a visible page
 * shows a toast), tagged with the event id so two tabs of the same user replace each other's instead of
 * showing one twice.
 */
export type Permission = NotificationPermission | 'unsupported';

export const permission = (): Permission => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

export async function requestPermission(): Promise<Permission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

export function notify(options: { id: string; title: string; body: string; onClick?: () => void }): boolean {
  if (permission() !== 'granted' || document.visibilityState === 'visible') return false;
  try {
    const notification = new Notification(options.title, { body: options.body, tag: options.id });
    notification.onclick = () => {
      window.focus();
      options.onClick?.();
      notification.close();
    };
    return true;
  } catch {
    return false; // e.g. Android Chrome, which only allows them from a service worker
  }
}
