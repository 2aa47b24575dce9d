// The decision record's "Print" button (an inline handler would break the CSP).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
