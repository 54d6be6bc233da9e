// The printable view's Print button (no inline handlers: the CSP allows scripts from 'self' only).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => button.addEventListener("click", () => window.print()));
});
