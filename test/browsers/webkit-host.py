#!/usr/bin/python3
"""
A WebKitGTK browser for WebKitWebDriver, in a few lines: Debian's MiniBrowser drives fine but
prints nothing a page or its workers log. This host is what WebKitWebDriver starts (its
'webkitgtk:browserOptions' binary): it allows automation, makes a web view for each window the
driver asks for, and writes every console message of pages and their workers to the file named
by VITRINE_WEBKIT_CONSOLE (the web processes inherit that descriptor), where the
tests read them. Run under Xvfb (xvfb-run); data lives in VITRINE_WEBKIT_DATA for the session.
"""
import os
import sys

console = os.environ.get('VITRINE_WEBKIT_CONSOLE')
if console:
    fd = os.open(console, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    # Both: a page's web process writes to stdout, but a web process started for another window
    # (WebKitGTK 2.50) was seen writing its console lines to stderr.
    os.dup2(fd, 1)
    os.dup2(fd, 2)

import gi  # noqa: E402

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import Gtk, WebKit2  # noqa: E402

data_dir = os.environ.get('VITRINE_WEBKIT_DATA', '/tmp/vitrine-webkit-data')
manager = WebKit2.WebsiteDataManager(base_data_directory=data_dir, base_cache_directory=os.path.join(data_dir, 'cache'))
context = WebKit2.WebContext(website_data_manager=manager)
context.set_automation_allowed(True)
windows = []


def make_view(*_args):
    settings = WebKit2.Settings()
    settings.set_enable_write_console_messages_to_stdout(True)
    settings.set_enable_developer_extras(True)
    view = WebKit2.WebView(web_context=context, settings=settings, is_controlled_by_automation=True)
    window = Gtk.Window()
    window.set_default_size(1280, 900)
    window.add(view)
    window.show_all()
    windows.append(window)
    view.connect('close', lambda v: window.destroy())
    return view


def on_automation_started(_context, session):
    info = WebKit2.ApplicationInfo()
    info.set_name('VitrineWebKit')
    info.set_version(2, 50, 0)
    session.set_application_info(info)
    session.connect('create-web-view', make_view)


context.connect('automation-started', on_automation_started)
if '--automation' not in sys.argv:
    make_view().load_uri(sys.argv[-1] if len(sys.argv) > 1 else 'about:blank')
Gtk.main()
