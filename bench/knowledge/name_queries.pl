#!/usr/bin/perl
# Search queries from the NAME lines of man pages: "ls \- list directory contents" gives
# "list directory contents" (mdoc pages: the .Nd line). Distinct descriptions, in a fixed
# pseudo-random order (by MD5), at most MAX of them.
#
#   name_queries.pl CORPUS_DIR MAX > queries.txt
#   name_queries.pl --known-items CORPUS_DIR MAX > items.tsv
#       "PATH<TAB>DESCRIPTION" (PATH relative to CORPUS_DIR), only descriptions that exactly one
#       page has: a known-item set for ranking quality (bench/quality/run.sh)
use strict;
use warnings;
use File::Find;
use Digest::MD5 qw(md5_hex);

my $known_items = @ARGV && $ARGV[0] eq '--known-items' ? shift @ARGV : 0;
my ($root, $max) = @ARGV;
die "usage: $0 CORPUS_DIR MAX\n" unless defined $max && -d $root && $max =~ /^\d+$/;

sub plain {
  my ($s) = @_;
  $s =~ s/\\f(\[[^\]]*\]|\(..|.)//g;   # fonts
  $s =~ s/\\s[-+]?(\(..|\[[^\]]*\]|\d)//g;  # sizes
  $s =~ s/\\\(em|\\\[em\]/ - /g;
  $s =~ s/\\\((..)|\\\[[^\]]*\]/ /g;      # other special characters
  $s =~ s/\\-/-/g;
  $s =~ s/\\e/\\/g;
  $s =~ s/\\[&|^%:)]//g;
  $s =~ s/\\(.)/$1/g;
  $s =~ s/\s+/ /g;
  $s =~ s/^ | $//g;
  return $s;
}

my (%seen, @found);
find({ no_chdir => 1, wanted => sub {
  return unless -f $_ && !-l $_;
  open(my $fh, '<', $_) or return;
  my ($in_name, $text, $nd) = (0, '', undef);
  my $lines = 0;
  while (my $line = <$fh>) {
    last if ++$lines > 400;
    chomp $line;
    if ($line =~ /^\.Nd\s+(.*)/) { $nd = $1; last; }
    if ($line =~ /^\.S[Hh]\s+"?([^"]*)"?\s*$/) {
      last if $in_name;
      $in_name = $1 eq 'NAME';
      next;
    }
    next unless $in_name;
    next if $line =~ /^[.']\s*\\"/;
    if ($line =~ /^[.']\s*(B|I|BR|IR|RB|RI|Nm)?\s*(.*)$/ && $line =~ /^[.']/) {
      next unless defined $1;  # other requests carry no text
      $line = $2;
      $line =~ s/"//g;
    }
    $text .= ' ' . $line;
  }
  close $fh;
  my $desc;
  if (defined $nd) {
    $desc = plain($nd);
  } elsif ($text =~ /\s\\-\s+(.*)$/ || $text =~ /\\-\s*(.*)$/ || $text =~ /\s-\s+(.*)$/) {
    $desc = plain($1);
  }
  return unless defined $desc;
  return if length($desc) < 8 || length($desc) > 200 || $desc !~ /\w+\W+\w+/;
  my $key = lc $desc;
  (my $rel = $File::Find::name) =~ s{^\Q$root\E/?}{};
  push @found, [$desc, $rel] unless $seen{$key}++;
  $seen{$key} = 2 if $seen{$key} > 2;
}}, $root);

@found = grep { !$known_items || $seen{lc $_->[0]} == 1 } @found;
@found = sort { md5_hex($a->[0]) cmp md5_hex($b->[0]) } @found;
splice(@found, $max) if @found > $max;
print $known_items ? "$_->[1]\t$_->[0]\n" : "$_->[0]\n" for @found;
