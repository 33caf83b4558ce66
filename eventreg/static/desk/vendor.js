// Where the desk's browser packages are (web/desk_vendor.py serves them from node_modules).
// A page names their versioned URLs in <script type="application/json" id="desk-vendor">
// (cached for a year); without it, the unversioned URL is revalidated on every load.

let urls = null;

export function vendorUrl(name) {
  if (urls === null) {
    const block = typeof document === "undefined" ? null : document.getElementById("desk-vendor");
    urls = block ? JSON.parse(block.textContent) : {};
  }
  return urls[name] || "/desk/vendor/" + encodeURIComponent(name);
}
