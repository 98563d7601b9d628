// Times and dates as the contract writes them: ISO 8601 with offset, YYYY-MM-DD.
using System;
using System.Globalization;

namespace OrderLink.Enova365.Logika
{
    /// <summary>Formatting and parsing of the contract's times and dates.</summary>
    public static class Czas
    {
        /// <summary>A time as 2026-11-03T08:00:12+01:00 (whole seconds).</summary>
        public static string Format(DateTimeOffset t)
        {
            return t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        }

        /// <summary>A date as 2026-11-03.</summary>
        public static string FormatDate(DateTime d)
        {
            return d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        /// <summary>Reads an ISO 8601 time; without an offset it is the server's local time.</summary>
        public static bool TryParse(string raw, out DateTimeOffset t)
        {
            return DateTimeOffset.TryParse(raw == null ? "" : raw.Trim(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeLocal, out t);
        }

        /// <summary>Reads YYYY-MM-DD (a time after it is ignored).</summary>
        public static bool TryParseDate(string raw, out DateTime d)
        {
            d = default(DateTime);
            if (raw == null) return false;
            var s = raw.Trim();
            if (s.Length < 10) return false;
            return DateTime.TryParseExact(s.Substring(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture,
                DateTimeStyles.None, out d);
        }

        /// <summary>The same instant cut to whole seconds (the contract's precision).</summary>
        public static DateTimeOffset DoSekundy(DateTimeOffset t)
        {
            return new DateTimeOffset(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, t.Offset);
        }
    }
}
